import pytest
import toyworld

from distillguard import detect, features


@pytest.fixture(scope="module")
def world():
    return toyworld.build()


@pytest.fixture(scope="module")
def ctx(world):
    con = toyworld.connect(*world)
    features.materialize(con)
    return detect.DetectionContext(con=con)


@pytest.fixture(scope="module")
def findings(ctx):
    return detect.run_detectors(ctx)
