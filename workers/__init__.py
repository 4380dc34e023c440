"""The RQ worker process (worker.py) and the mail job (mail.py).

The queues are declared in yakku/queues.py, so any area enqueues its own jobs without importing the
worker; the sale's checkout jobs are enqueued in admission/checkout/jobs.py.
"""
