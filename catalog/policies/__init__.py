"""Pure catalog rules: no database, no Django models; plain values in, plain values out."""
