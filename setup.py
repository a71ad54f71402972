"""Builds the optional native tokenizer; everything else is declared in pyproject.toml.

The extension is optional: where no C compiler works (or PROMPTLS_BUILD_NATIVE=0), the install
still succeeds and promptls counts with pure-Python ctok (`promptls --version` says which).
"""

import os

from setuptools import Extension, setup

native = [Extension("promptls.counting._native", ["server/promptls/counting/_native.c"], optional=True)]
setup(ext_modules=native if os.environ.get("PROMPTLS_BUILD_NATIVE", "1") != "0" else [])
