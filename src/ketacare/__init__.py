"""KetaCare: software for clinics that treat patients with ketamine and esketamine."""

__version__ = "0.1.0"
