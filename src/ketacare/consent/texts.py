"""Starting consent texts per route: plain language a clinic reviews and adapts before use.

They describe what happens and what can go wrong in words, not figures; a clinic's admin
publishes its own version (every change is a new version patients sign again).
"""

TITLES: dict[str, str] = {
    "iv": "Consent to ketamine infusion (IV) for depression",
    "im": "Consent to ketamine injection (IM) for depression",
    "esketamine": "Consent to esketamine nasal spray (SPRAVATO) treatment",
    "sublingual": "Consent to at-home sublingual ketamine",
    "home_programme": "At-home ketamine programme agreement",
}

WHAT_HAPPENS: dict[str, str] = {
    "iv": (
        "Ketamine is given slowly through a small tube in a vein in your arm, in a treatment "
        "room at the clinic. A nurse checks your blood pressure, heart rate and oxygen level "
        "before, during and after the infusion. A course is a series of infusions over a few "
        "weeks; after it, you and your prescriber decide together whether further sessions "
        "would help. Using ketamine for depression in this way is 'off-label': it is a "
        "recognised use, but not one the medicine's licence lists."
    ),
    "im": (
        "Ketamine is given as an injection into a muscle, in a treatment room at the clinic. "
        "The dose usually starts low and is raised step by step at later sessions if needed. "
        "A nurse checks your blood pressure, heart rate and oxygen level before and after the "
        "injection. Using ketamine for depression in this way is 'off-label': it is a "
        "recognised use, but not one the medicine's licence lists."
    ),
    "esketamine": (
        "You spray esketamine (SPRAVATO) into your own nose at the clinic, under the direct "
        "supervision of our staff, with a short rest between devices. You will not take any "
        "home. We will tell you how long to go without food and drink before each session. "
        "We check your blood pressure before the first spray and again during your stay, and "
        "you stay with us for the observation time the programme requires, and longer if you "
        "need it, until the effects have worn off. The programme is run under a national "
        "safety scheme, so we report on each session."
    ),
    "sublingual": (
        "You take ketamine at home by letting a tablet or lozenge dissolve under your tongue, "
        "following the plan your prescriber gives you, with a responsible adult with you "
        "throughout. You check your blood pressure with the cuff in your kit and keep to the "
        "agreed doses and days; the clinic checks in with you by video between sessions. "
        "You keep the medicine locked away and account for every dose. Using ketamine for "
        "depression in this way is 'off-label' and less studied than treatment in a clinic."
    ),
}

COMMON = """\
Why you are being offered this treatment
Your prescriber has talked with you about your depression and the treatments you have tried,
and believes this treatment may help. It does not work for everyone, and any benefit may fade
over time.

What happens
{what_happens}

Possible side effects and risks
- Feeling detached, dreamlike or 'outside yourself' (dissociation), or seeing and hearing
  things differently. This is common, usually passes by the end of the session, and staff
  stay with you.
- A rise in blood pressure and heart rate during and soon after treatment. We check your blood
  pressure and may delay or stop a session if it is too high.
- Sleepiness or sedation. Rarely, you may become very drowsy or hard to wake; staff are
  trained and equipped to look after you.
- Nausea or vomiting, dizziness, headache, blurred vision or feeling unsteady.
- Anxiety or low mood as the treatment wears off.
- Ketamine can be misused and, with frequent use, can lead to dependence. Taking it only as
  planned, at the clinic or under the agreed home plan, keeps this risk low. Tell us if you
  feel drawn to use it outside your plan.
- Frequent or long-term use can irritate the bladder. Tell us about pain or frequent, urgent
  or painful passing of urine.
- Ketamine may harm an unborn baby. Tell us if you are, or might be, pregnant or are
  breastfeeding.

Keeping you safe
- Do not drive, cycle, operate machinery or make important decisions until the next day,
  after a night's sleep. A responsible adult must take you home.
- Do not drink alcohol or use other drugs on treatment days. Tell us about every medicine you
  take, including ones you buy yourself, and any changes.
- Tell us at once if you have thoughts of harming yourself, or if anything worries you.

Other choices
You do not have to have this treatment. Other choices include staying with or changing your
antidepressant medicine, talking therapies, electroconvulsive therapy (ECT), transcranial
magnetic stimulation (TMS), or no new treatment. Your prescriber can talk these through with
you.

Your choice
Saying yes is your free choice. You may ask questions at any time, and you may change your
mind and stop treatment at any time, before or during a course, without it affecting the rest
of your care here. If we change this document, we will ask you to read and sign the new
version before your next session.

By signing, you confirm that you have read this document (or had it read to you), that your
questions have been answered, and that you agree to this treatment.
"""


# The at-home programme's own agreement (reference §7): the FDA's warning and the home rules.
HOME_PROGRAMME = """\
What the FDA has said
In October 2023 the U.S. Food and Drug Administration warned that compounded ketamine,
including tablets and lozenges taken by mouth or under the tongue, is not approved for any
mental health condition, and that taking it at home is outside the safety programme that
applies to esketamine, with no clinician there to watch over you. We offer this programme
because we believe it may help you, with the safety steps below in place of that supervision.

How each home dose works
- Before each dose your sitter, a responsible adult named in your plan, confirms on their own
  phone that they are with you, and stays until the effects have worn off.
- You measure your blood pressure and heart rate with the cuff in your kit and enter them on
  your phone. If they are above the limits your clinic sets, do not take the dose that day:
  the clinic will call you.
- You take it on an empty stomach, with no alcohol or other drugs that day, somewhere safe to
  sit or lie down.
- Afterwards you fill in a short check-in. Your next dose opens only once it is in and your
  clinic has reviewed anything it flagged.

Keeping the medicine safe
- Keep it locked away, out of reach of children and visitors, and never share it.
- Take it only on the agreed days and at the agreed dose. Report any lost or missing dose to
  the clinic at once; at your reviews we count what is left together.
- More medicine is released only after your follow-up reviews, when the count adds up.

After each dose
- Do not drive, cycle, use machinery or make important decisions until the next day, after
  a night's sleep.

If a rule is broken
If a dose is taken outside the plan, medicine cannot be accounted for, or the safety steps are
skipped, your prescriber will pause the programme and talk with you about continuing at home,
moving your treatment to the clinic, or stopping.

Your choice
You may stop at any time. By signing you agree to these rules for as long as you take part.
"""


def default_body(route: str) -> str:
    """The starting consent text for a route (the at-home programme has its own agreement)."""
    if route == "home_programme":
        return HOME_PROGRAMME
    return COMMON.format(what_happens=WHAT_HAPPENS[route])
