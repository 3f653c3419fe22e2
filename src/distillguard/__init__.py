"""distillguard: detect and counter distillation attacks on language-model APIs."""

__version__ = "0.1.0"
