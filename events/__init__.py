"""The `events` process: one Server-Sent Events stream per page in line, told at once when its sale ends.

It needs no Flask and no Redis: one watcher per sale asks the web's own GET /sales/ID/end (the same
answer, and the same final panel, every page would poll for) every EVENTS_ASK_EVERY_S while someone listens,
and hands that panel to every listener of the sale in one event (issue 11, rule 5).
"""
