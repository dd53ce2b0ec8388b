"""Model presets (the reports' stated settings) and the parsing of `--model` specs."""
