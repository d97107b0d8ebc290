"""``ember.backends``: the built-in backend plugins (``cpu``, ``cuda``)."""
