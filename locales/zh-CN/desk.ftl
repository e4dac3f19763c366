# The web console: the desk pages.
