"""The shared kernel: imported by every domain, imports none of them."""
