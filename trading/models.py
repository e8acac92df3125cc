"""Trading projects, lots, announcements and the public portal (issue 3)."""
