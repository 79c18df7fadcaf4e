"""Closed word classes for the offline extractor: what is *not* a domain noun.

A word outside these lists that is not a known verb is read as a noun — which is why the
lists hold the function words, the generic software words ("system", "app", "platform")
and the common verbs people use to describe a domain.
"""
from __future__ import annotations

from typing import Final


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DETERMINERS: Final = _words("a an the their his her its our your my this that these those each every any some "
                            "all no another either neither such whose")
QUANTIFIERS: Final = _words("many multiple several lots few one two three four five more most various "
                            "numerous")
PREPOSITIONS: Final = _words("for to in on with by of from per at into about within under over across via "
                             "through between among onto inside without during after before against")
CONJUNCTIONS: Final = _words("and or plus but nor &")
AUXILIARIES: Final = _words("is are was were be been being get gets got am")
MODALS: Final = _words("can could will would should must may might shall do does need needs want wants wish "
                       "able also just only then too don't doesn't can't won't shouldn't cannot")
HAVE: Final = _words("have has had having contain contains contained include includes including hold holds "
                     "consist consists")
# Pronouns that stand for an entity mentioned before (resolved by the extractor).
BACK_REFERENCES: Final = _words("them it they those these")
# Subjects that are people in general, not entities: "we record vaccinations".
SUBJECT_PRONOUNS: Final = _words("we i you us me he she who which that someone somebody everyone anyone "
                                 "where whom what when how why whether if so as it's that's what's there's "
                                 "here's let's he's she's who's where's we're i'm i'd we'd you're they're")
# The thing being built and filler words: never an entity, and they end a noun phrase.
GENERIC: Final = _words(
    "system systems app apps application platform website site tool tools software service portal dashboard "
    "tracker planner solution crm erp backend api database marketplace saas program web mobile "
    "management tracking handling thing things way data info information kind type types sort feature "
    "features support ability option options stuff something everything anything nothing time "
    "part parts lot lots number bunch set detail details records entry entries etc "
    "night nights day days week weeks month months year years hour hours minute minutes second seconds "
    "hello hi hey thanks thank please ok okay yes there here now today later soon idea ideas question "
    "questions help example examples business domain model models entity entities relationship "
    "relationships field fields table tables")
# "application" is the software; "applications" (to a job) are a domain noun.
GENERIC_SINGULAR_ONLY: Final = _words("application")
ADJECTIVES: Final = _words(
    "online digital new old big small large little local simple basic main different other own public "
    "private internal external personal favorite favourite monthly weekly daily yearly annual recurring free "
    "important specific existing current whole single open closed upcoming past future optional various "
    "same certain available active inactive full good best great nice small-business global multi "
    "typical usual regular special general several real actual separate individual")
ADVERBS: Final = _words("also just only then too really usually typically often always never currently "
                        "sometimes maybe probably basically actually even still already again each "
                        "not very quite rather later soon first finally out off down back away")
# Nouns ending in -ing (otherwise -ing words are read as verbs or gerunds).
ING_NOUNS: Final = _words("booking bookings meeting meetings listing listings building buildings posting "
                          "postings rating ratings setting settings training trainings wedding weddings "
                          "clothing painting paintings recording recordings filling fillings thing things "
                          "offering offerings opening openings shipping earning earnings reading readings "
                          "sibling siblings string strings ring rings king kings wing wings spring")

# Verbs people use to describe what happens in a domain (base forms; inflections derived).
VERBS: Final = _words(
    "add assign attend bring buy borrow book browse build cancel check choose claim collect comment complete "
    "contact cook create deliver design drive earn edit enroll enrol fill find follow give grade handle hire "
    "host invite issue join keep lead leave lend like list log love make manage manufacture mark "
    "meet need order organize organise own participate pay perform pick place plan play post prescribe "
    "process produce publish purchase rate read receive record register rent reply report request reserve "
    "return review run schedule see sell send serve ship sign store submit subscribe supply take teach "
    "track train treat update upload use visit vote watch wear win work write bid apply favorite favourite "
    "bookmark share star tag upvote follow sponsor adopt groom feed walk vaccinate examine diagnose teach "
    "belong link attach relate associate connect tie enter belong offer sell stock carry contain cover "
    "employ rent lease repair fix inspect maintain install invoice bill charge refund approve reject happen occur "
    "resolve supervise house grow save browse view forget remember allow let "
    "assign allocate transport pack pickup dispatch accept decline cook prepare")
# Verbs that are also common domain nouns ("customers order food" / "orders").
AMBIGUOUS: Final = _words(
    "order book post comment review tag schedule ship record track list rent plan visit place use need "
    "request report reply rate note vote share like bid offer charge return design store bill invoice "
    "lease star supply stock process work run play log issue walk train")
# Verbs whose subject and object meet many-to-many: many students attend many courses.
MANY_TO_MANY_VERBS: Final = _words(
    "enroll enrol attend join follow like favorite favourite bookmark subscribe buy purchase borrow rent "
    "watch visit participate take star upvote sponsor book reserve browse view")
# Verbs that are many-to-many only through their preposition: "attendees register for sessions".
MANY_TO_MANY_BY_PREPOSITION: Final = _words("register sign apply work bid vote")
# Verbs whose object, when it is an occasion (an appointment), belongs to the subject.
BOOKING_VERBS: Final = _words("book reserve schedule")
# "happens at/in X", "is held at X", "are played at X": the subject is located at X.
LOCATION_PREPOSITIONS: Final = _words("at in")
# Verbs that reach their object through a preposition: "enroll in", "apply for", "subscribe to".
PREPOSITION_VERBS: Final = _words("enroll enrol register subscribe apply participate work vote comment bid "
                                  "sign log check")
# Words that frame the thing being built: "I need a blog…", "we run a pet clinic".
FRAMING: Final = _words("need needs want wants build building create creating make making design designing "
                        "run running am is are have has about like develop developing start starting "
                        "launch launching own it's we're i'm that's here's there's")
# Who may say a framing word: "we run a…", "this is a…", "I want to build a…".
FRAMERS: Final = _words("i we you this it that to i'd i'm we're we'd we'll i'll it's this's let's am are is will "
                        "would can could")
# "each A belongs to a B" and its variants (the word before "to"/"of").
BELONG: Final = _words("belongs belong assigned linked attached tied part associated related connected")
