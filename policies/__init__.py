"""The mlgitops policy catalog: one YAML file per rule, shipped as package data (mlgitops_policies)."""
