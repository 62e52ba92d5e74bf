"""The care pipeline (DESIGN 3.7): its codes and their labels (codes.py, labels.py), the pure
rules (statuses.py, delegation.py, duplicates.py, languages.py) and its store (store.py).
See docs/decisions/028-care-pipeline.md."""
