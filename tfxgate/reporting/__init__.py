"""What people read: the run summary, the HTML run report, the model card, and the pieces they share."""
