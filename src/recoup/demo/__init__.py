"""`recoup demo`: realistic sample data from a fixed seed (:mod:`recoup.demo.generate`) run through
the whole pipeline against the local sandbox carrier (:mod:`recoup.demo.run`)."""

DEFAULT_SEED = 7
DEFAULT_SHIPMENTS = 2000
#: The sandbox carrier's faults in the demo (see `recoup sandbox`); here, light, for the CLI's help.
DEFAULT_FAULTS = "429=0.05,500=0.05,reject=0.1,partial=0.1,retry_after=0,seed=7"
