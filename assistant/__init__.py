"""园区助手 (Zone Assistant): grounded answers over Chinese development-zone documents.

`from assistant import Assistant` is the public entry point; the import is lazy so that the CLI starts
without loading Chroma or the model until a command needs them.
"""

__version__ = "0.1.0"
__all__ = ["Assistant", "Settings"]


def __getattr__(name):
    if name == "Assistant":
        from .bot import Assistant

        return Assistant
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(name)
