"""A deterministic synthetic clinic network: clinics, staff, chairs, and years of patients.

Each patient arrives on a day of the network's history, is screened and consents, has an
induction course booked into real chair time on the clinic's open days, checks in for the
sessions that have happened (vital-sign readings, a PHQ-9 before each), is followed up after
the course by the clinic's questionnaire policy (some answered, some missed, some open now),
and, when the scores relapse, may start a booster course. Scores, bands and alerts come from the
clinical core; rows go into the models' own tables with their constraints (`bulk.TableWriter`).
The same seed, size and day give the same network.

One module per part: what to build (`spec`), a clinic and its chair time (`clinics`), the
tables and scores (`rows`), one patient's history (`patients`), and the build itself (`build`).
"""

from ketacare.synth.network.build import build_network
from ketacare.synth.network.spec import SYNTH_PASSWORD, NetworkReport, NetworkSpec

__all__ = ["SYNTH_PASSWORD", "NetworkReport", "NetworkSpec", "build_network"]
