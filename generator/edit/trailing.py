"""The text that follows a value in a round-trip tree: its end-of-line comment, then blank lines and comments.

ruamel.yaml keeps what follows a value in a comment token attached to the value (to the last
scalar of a block collection): the end-of-line comment, the newline, then any blank lines and
comment lines up to the next entry. Those later lines belong to whatever comes next, so an
edit that inserts or removes an entry moves them: the value keeps its end-of-line part, and
the rest stays in front of the next entry.
"""

from __future__ import annotations

from typing import Any


def own_keys(mapping: Any) -> list[Any]:
    """A mapping's own keys, in order (not those a `<<` merge key brings in)."""
    return [key for key, _ in mapping.non_merged_items()]


def last_leaf(node: Any, key: Any) -> tuple[Any, Any]:
    """The collection and key holding the comment that follows the value at ``node[key]``."""
    from ruamel.yaml import comments

    value = node[key]
    while isinstance(value, (comments.CommentedMap, comments.CommentedSeq)) and value and not value.fa.flow_style():
        if isinstance(value, comments.CommentedMap):
            own = own_keys(value)
            if not own:
                break
            node, key = value, own[-1]
        else:
            node, key = value, len(value) - 1
        value = node[key]
    return node, key


def comment_slot(node: Any) -> int:
    from ruamel.yaml import comments

    return 2 if isinstance(node, comments.CommentedMap) else 0


def split(node: Any, key: Any) -> tuple[Any, str, str]:
    """The token after ``node[key]``'s value, its end-of-line part and the lines after it."""
    holder, leaf = last_leaf(node, key)
    entry = holder.ca.items.get(leaf)
    token = entry[comment_slot(holder)] if entry and len(entry) > comment_slot(holder) else None
    if token is None or not isinstance(token.value, str) or "\n" not in token.value:
        return token, token.value if token is not None else "", ""
    cut = token.value.index("\n") + 1
    return token, token.value[:cut], token.value[cut:]


def take_rest(node: Any, key: Any) -> str:
    """Detach and return the lines that follow the value's own line (blank lines, comments of what comes next)."""
    token, end_of_line, rest = split(node, key)
    if token is not None and rest:
        token.value = end_of_line
    return rest


def give(node: Any, key: Any, rest: str) -> None:
    """Put ``rest`` after the value at ``node[key]``."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not rest:
        return
    holder, leaf = last_leaf(node, key)
    slot = comment_slot(holder)
    entry = holder.ca.items.setdefault(leaf, [None, None, None, None])
    token = entry[slot]
    if token is not None and isinstance(token.value, str):
        token.value = (token.value if token.value.endswith("\n") else token.value + "\n") + rest
    else:
        entry[slot] = CommentToken("\n" + rest, CommentMark(0), None)


def blank_line_separated(container: Any, keys: list[Any]) -> bool:
    """Whether every value but the last is followed by a blank line (sections, list items)."""
    if len(keys) < 2:
        return False
    for key in keys[:-1]:
        _, _, rest = split(container, key)
        if not rest.startswith("\n"):
            return False
    return True


def open_gap(container: Any, key: Any) -> None:
    """A blank line after the value at ``container[key]``."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    holder, leaf = last_leaf(container, key)
    slot = comment_slot(holder)
    entry = holder.ca.items.setdefault(leaf, [None, None, None, None])
    if entry[slot] is None:
        entry[slot] = CommentToken("\n\n", CommentMark(0), None)
    else:
        entry[slot].value += "\n"


def lead(container: Any, rest: str) -> None:
    """Put ``rest`` in front of the first entry of ``container`` (its first entry was removed)."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not rest:
        return
    if container.ca.comment is None:
        container.ca.comment = [None, []]
    while len(container.ca.comment) < 2:
        container.ca.comment.append([])
    if container.ca.comment[1] is None:
        container.ca.comment[1] = []
    container.ca.comment[1].append(CommentToken(rest, CommentMark(0), None))


__all__ = ["blank_line_separated", "give", "lead", "open_gap", "own_keys", "split", "take_rest"]
