"""Category tree writes: find-or-create paths, keep the stored full paths right."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Category
from catalog.models.taxonomy import CATEGORY_PATH_SEPARATOR


@transaction.atomic
def category_refresh_paths(*, category: Category) -> int:
    """Rebuild ``full_path`` of a category's descendants after a rename or a move."""
    updated = 0
    todo = [category]
    while todo:
        parent = todo.pop()
        children = list(Category.objects.filter(parent=parent))
        for child in children:
            child.full_path = f"{parent.full_path}{CATEGORY_PATH_SEPARATOR}{child.name}"
        Category.objects.bulk_update(children, ["full_path"])
        updated += len(children)
        todo.extend(children)
    return updated
