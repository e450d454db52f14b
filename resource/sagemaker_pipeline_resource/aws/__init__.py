"""AWS access: the session and its credentials, clients, transient failures, and AWS's errors in words."""
