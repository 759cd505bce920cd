"""What the notebooks show: the routine builder's model (no widgets) and view, cards, plots and batch export.

Import ``stretchcast.notebook.view`` for widgets; ``model``, ``cards`` and ``plots`` never import them.
"""
