"""One environment built and checked, the whole fleet, budgets, the work split over two processes."""
