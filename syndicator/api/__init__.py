"""Every HTTP route (one module per feature), its dependencies and its response models.

Feature packages never import this package: they raise their own errors, and the routes here
translate them into HTTP answers.
"""
