"""What the DAGs share: task arguments and what a failure means, the Assets, the alert
callback."""
