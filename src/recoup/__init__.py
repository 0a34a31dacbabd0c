"""recoup: gets money back from parcel carriers."""

__version__ = "0.1.0"
