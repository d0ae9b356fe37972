"""Research scripts (pipeline comparisons, tuning, the spaCy vectors builder, search
evaluation). Nothing here is part of the model: editing it never retrains anything."""
