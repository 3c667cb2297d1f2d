"""`fields` and `exclude_fields`: comma-separated dotted paths from the response root (§3.8, §9.2).

Collections need the envelope prefix (`members.email_address`); a path that names nothing selects nothing.
A quoted value (`"members.id,members.status"`) loses its first field, as reported of the real API
(codegen#170): the leading quote spoils the first path, a trailing one is ignored.
"""

from typing import Any

Tree = dict[str, "Tree"]


def parse_paths(raw: str | None) -> Tree | None:
    """The paths as a tree (`{}` = the whole value); None when the parameter is absent or blank."""
    if raw is None or not raw.strip():
        return None
    tree: Tree = {}
    for path in raw.split(","):
        parts = [p for p in path.strip().rstrip("\"'").split(".") if p]
        if not parts:
            continue
        node = tree
        for index, part in enumerate(parts):
            is_leaf = index == len(parts) - 1
            if part in node and not node[part]:
                break  # an ancestor is already selected whole
            node = node.setdefault(part, {})
            if is_leaf:
                node.clear()
    return tree


def _include(value: Any, tree: Tree) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [_include(item, tree) for item in value]
    if isinstance(value, dict):
        return {key: _include(value[key], sub) for key, sub in tree.items() if key in value}
    return value


def _exclude(value: Any, tree: Tree) -> Any:
    if isinstance(value, list):
        return [_exclude(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key not in tree:
            out[key] = item
        elif tree[key]:
            out[key] = _exclude(item, tree[key])
    return out


def filter_fields(document: dict[str, Any], fields: str | None, exclude_fields: str | None) -> dict[str, Any]:
    """Apply `fields`, then `exclude_fields`, to a response document."""
    include = parse_paths(fields)
    exclude = parse_paths(exclude_fields)
    result: dict[str, Any] = document if include is None else _include(document, include)
    return result if exclude is None else _exclude(result, exclude)
