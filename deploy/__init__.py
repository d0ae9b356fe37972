"""Production profile: endpoints, nginx and systemd templates, and its launcher."""
