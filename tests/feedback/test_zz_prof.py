import cProfile, pstats, io
from cityhall.feedback import demo

def test_prof(session, settings):
    demo.COUNT = 20
    pr = cProfile.Profile(); pr.enable()
    demo.seed(session, settings)
    pr.disable()
    s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats("cumulative").print_stats(40)
    open("/tmp/prof.txt","w").write(s.getvalue())
