"""GDPR requests (issue 15 point 5): anonymisation, the subject-access export, retention."""
