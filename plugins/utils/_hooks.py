"""Finding and taking out the hooks that weight and spectral norm install."""


def pop_hook(hooks, matches):
    """Remove from the ordered dict ``hooks`` the first hook for which ``matches(hook)``
    is true and return it (None when there is none)."""
    for key, hook in hooks.items():
        if matches(hook):
            del hooks[key]
            return hook
    return None
