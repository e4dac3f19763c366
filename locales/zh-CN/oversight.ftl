# The web console: the oversight pages.
