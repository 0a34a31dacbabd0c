"""`recoup demo`: realistic sample data from a fixed seed (:mod:`recoup.demo.generate`) run through
the whole pipeline against the local sandbox carrier (:mod:`recoup.demo.run`)."""
