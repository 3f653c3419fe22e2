"""`python -m distillguard`: the same as the `distillguard` console script."""

from distillguard.launch import main

main()
