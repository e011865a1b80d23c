"""``python -m app [serve options]`` starts the server, as ``convscope serve`` does."""

import sys

from .cli import main

if __name__ == "__main__":
    main(sys.argv[1:] if sys.argv[1:2] == ["serve"] else ["serve", *sys.argv[1:]])
