"""One Router per feature; app.py includes them in matching order."""
