"""evidex: clinical-evidence pages → grounded, analysis-ready tables of study measures."""

__version__ = "0.1.0"
