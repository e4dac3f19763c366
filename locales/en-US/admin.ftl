# The web console: the admin pages.
