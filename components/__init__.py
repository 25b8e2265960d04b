"""tfxgate's own TFX components, one folder each (see components/README.md)."""
