"""Domain descriptions in many phrasings, with the entities and relationships the offline
provider must read from them (tests/domain/test_offline_nouns.py, tests/engine/test_offline_nouns.py).

``entities`` is the exact set unless ``exact`` is False, when it is a required subset and
``forbidden`` lists names that must not appear. ``relationships`` are required
``(from, type, to)`` triples; ``A one-to-many B`` is the same as ``B many-to-one A`` and a
many-to-many reads both ways (the test normalises them).
"""
from __future__ import annotations

from dataclasses import dataclass, field

Rel = tuple[str, str, str]


@dataclass(frozen=True)
class Description:
    id: str
    text: str
    entities: frozenset[str]
    relationships: frozenset[Rel] = frozenset()
    exact: bool = True
    forbidden: frozenset[str] = frozenset()


def d(id: str, text: str, entities: set[str], relationships: set[Rel] | None = None, *, exact: bool = True,
      forbidden: set[str] | None = None) -> Description:
    return Description(id, text, frozenset(entities), frozenset(relationships or ()), exact,
                       frozenset(forbidden or ()))


M2O, O2M, M2M = "many-to-one", "one-to-many", "many-to-many"

DESCRIPTIONS: list[Description] = [
    d("pet clinic", "owners bring their pets for appointments, and we record vaccinations",
      {"Owner", "Pet", "Appointment", "Vaccination"}, {("Pet", M2O, "Owner")}),
    d("food delivery", "restaurants have menu items, customers place orders, couriers deliver them",
      {"Restaurant", "MenuItem", "Customer", "Order", "Courier"},
      {("MenuItem", M2O, "Restaurant"), ("Order", M2O, "Customer"), ("Order", M2O, "Courier")}),
    d("readme blog", "I need a blog with posts, authors, and comments", {"Post", "Author", "Comment"},
      {("Comment", M2O, "Post")}),
    d("we run a pet clinic", "We run a pet clinic. Owners bring their pets for appointments.",
      {"Owner", "Pet", "Appointment"}, {("Owner", O2M, "Pet"), ("Appointment", M2O, "Pet")},
      forbidden={"Clinic", "Patient", "Doctor"}),
    d("bullet list", "Our purchasing tool needs:\n- Customers\n- Purchase orders\n- Line items\n- Suppliers",
      {"Customer", "PurchaseOrder", "LineItem", "Supplier"}),
    d("irregular people children", "People belong to households. Each household has many children.",
      {"Person", "Household", "Child"}, {("Person", M2O, "Household"), ("Child", M2O, "Household")}),
    d("irregular categories addresses", "Products belong to categories. Customers have addresses.",
      {"Product", "Category", "Customer", "Address"},
      {("Product", M2O, "Category"), ("Address", M2O, "Customer")}),
    d("irregular statuses", "Tickets have statuses. Agents resolve tickets.", {"Ticket", "Status", "Agent"},
      {("Status", M2O, "Ticket"), ("Ticket", M2O, "Agent")}),
    d("irregular boxes", "Warehouses store boxes. Each box contains many parcels.",
      {"Warehouse", "Box", "Parcel"}, {("Box", M2O, "Warehouse"), ("Parcel", M2O, "Box")}),
    d("irregular analyses", "Labs run analyses on samples. Each analysis belongs to a sample.",
      {"Lab", "Analysis", "Sample"}, {("Analysis", M2O, "Sample"), ("Analysis", M2O, "Lab")}),
    d("enroll many-to-many", "Students enroll in courses. Teachers teach courses.",
      {"Student", "Course", "Teacher"}, {("Student", M2M, "Course"), ("Course", M2O, "Teacher")}),
    d("passive voice", "Invoices are paid by customers. Payments are recorded for invoices.",
      {"Invoice", "Customer", "Payment"}, {("Invoice", M2O, "Customer"), ("Payment", M2O, "Invoice")}),
    d("has many belongs to, Title Case",
      "A Customer has many Orders. Each Order belongs to a Customer. An Order has many Line Items.",
      {"Customer", "Order", "LineItem"}, {("Order", M2O, "Customer"), ("LineItem", M2O, "Order")}),
    d("we run a studio, takes place",
      "we run a yoga studio: instructors teach classes, members book classes, and each class takes place in a "
      "room.",
      {"Instructor", "Class", "Member", "Room"},
      {("Class", M2O, "Instructor"), ("Member", M2M, "Class"), ("Class", M2O, "Room")},
      forbidden={"Studio", "YogaStudio", "Place"}),
    d("users want to", "Users want to share photos with friends; photos have comments and likes.",
      {"User", "Photo", "Friend", "Comment", "Like"}, {("Comment", M2O, "Photo"), ("Like", M2O, "Photo")}),
    d("pronoun them", "Authors write books, publishers publish them, readers leave reviews for books.",
      {"Author", "Book", "Publisher", "Reader", "Review"},
      {("Book", M2O, "Author"), ("Book", M2O, "Publisher"), ("Review", M2O, "Reader"), ("Review", M2O, "Book")}),
    d("shouting with punctuation", "I NEED AN APP FOR A GYM WITH TRAINERS, MEMBERS AND WORKOUTS!!!",
      {"Trainer", "Member", "Workout"}, forbidden={"App", "Gym"}),
    d("own and part of", "Tenants rent apartments; landlords own buildings, and each apartment is part of a "
      "building.",
      {"Tenant", "Apartment", "Landlord", "Building"},
      {("Tenant", M2M, "Apartment"), ("Building", M2O, "Landlord"), ("Apartment", M2O, "Building")}),
    d("assigned to, belong to many", "Projects have many tasks, tasks are assigned to users, users can belong to "
      "many teams.",
      {"Project", "Task", "User", "Team"},
      {("Task", M2O, "Project"), ("Task", M2O, "User"), ("User", M2M, "Team")}),
    d("played at", "Players join teams, teams play matches, and matches are played at stadiums.",
      {"Player", "Team", "Match", "Stadium"},
      {("Player", M2M, "Team"), ("Match", M2O, "Team"), ("Match", M2O, "Stadium")}),
    d("unknown verb", "Farmers grow crops on farms. Each harvest belongs to a crop.",
      {"Farmer", "Crop", "Farm", "Harvest"}, {("Crop", M2O, "Farmer"), ("Harvest", M2O, "Crop")}),
    d("can have many, written by", "Patients can have many prescriptions. A prescription is written by a doctor.",
      {"Patient", "Prescription", "Doctor"}, {("Prescription", M2O, "Patient"), ("Prescription", M2O, "Doctor")}),
    d("multi-word object and pronoun", "Employees submit expense reports; managers approve them.",
      {"Employee", "ExpenseReport", "Manager"},
      {("ExpenseReport", M2O, "Employee"), ("ExpenseReport", M2O, "Manager")}),
    d("register for", "A conference app: speakers give talks, attendees register for sessions.",
      {"Speaker", "Talk", "Attendee", "Session"}, {("Talk", M2O, "Speaker"), ("Attendee", M2M, "Session")},
      exact=False, forbidden={"App"}),
    d("chained has", "Tournaments have rounds, rounds have matches, and each match has a referee.",
      {"Tournament", "Round", "Match", "Referee"},
      {("Round", M2O, "Tournament"), ("Match", M2O, "Round"), ("Match", M2O, "Referee")}),
    d("sign up for", "Volunteers sign up for shifts at shelters, and shelters house animals.",
      {"Volunteer", "Shift", "Shelter", "Animal"}, {("Volunteer", M2M, "Shift"), ("Animal", M2O, "Shelter")}),
    d("contain, performed by, follow", "Playlists contain songs; songs are performed by artists; users follow "
      "artists.",
      {"Playlist", "Song", "Artist", "User"},
      {("Song", M2O, "Playlist"), ("Song", M2O, "Artist"), ("User", M2M, "Artist")}),
    d("explicit many-to-many", "Courses and students are many-to-many. Each course has a syllabus.",
      {"Course", "Student", "Syllabus"}, {("Course", M2M, "Student"), ("Course", M2O, "Syllabus")}),
    d("company departments", "The company has departments; each department has employees; employees work on "
      "projects.",
      {"Company", "Department", "Employee", "Project"},
      {("Department", M2O, "Company"), ("Employee", M2O, "Department"), ("Employee", M2M, "Project")}),
    d("bid on, list items", "Buyers bid on auctions, sellers list items, and each auction has one item.",
      {"Buyer", "Auction", "Seller", "Item"},
      {("Buyer", M2M, "Auction"), ("Item", M2O, "Seller"), ("Auction", M2O, "Item")}),
    d("invoices for orders", "We issue invoices for orders and ship parcels to warehouses.",
      {"Invoice", "Order", "Parcel", "Warehouse"}, {("Invoice", M2O, "Order")}),
    d("stop words only", "Hello! Can you help me build something nice for my business?", set()),
    d("x with y list", "A garden planner with plants, beds and seed packets.",
      {"Plant", "Bed", "SeedPacket"}, forbidden={"Garden", "GardenPlanner", "Planner"}),
    d("semicolon bullets with stars", "* Hotels have rooms\n* Guests make reservations for rooms\n* Reviews",
      {"Hotel", "Room", "Guest", "Reservation", "Review"},
      {("Room", M2O, "Hotel"), ("Reservation", M2O, "Guest"), ("Reservation", M2O, "Room")}),
    d("adjectives dropped", "Registered members write monthly newsletters and online articles.",
      {"Member", "Newsletter", "Article"}, {("Newsletter", M2O, "Member"), ("Article", M2O, "Member")},
      forbidden={"RegisteredMember", "MonthlyNewsletter"}),
    d("appointments with doctors", "A clinic where patients book appointments with doctors.",
      {"Patient", "Appointment", "Doctor"}, {("Appointment", M2O, "Patient"), ("Appointment", M2O, "Doctor")},
      forbidden={"Clinic"}),
    d("analyses and diagnoses", "Doctors order analyses; each analysis has many results.",
      {"Doctor", "Analysis", "Result"}, {("Analysis", M2O, "Doctor"), ("Result", M2O, "Analysis")}),
    d("browse, particle", "I want to build an e-commerce site where customers browse products, add them to a "
      "cart and check out.",
      {"Customer", "Product", "Cart"}, {("Customer", M2M, "Product")}, forbidden={"Out", "Site", "ECommerce"}),
    d("label noun of a kind already named", "A todo app with lists and tasks. Each task belongs to a list.",
      {"List", "Task"}, {("Task", M2O, "List")}, forbidden={"Todo", "App"}),
    d("possessive", "Members can borrow up to 5 books at a time from the library's branches.",
      {"Member", "Book", "Library", "Branch"}, {("Member", M2M, "Book"), ("Branch", M2O, "Library")},
      forbidden={"Time"}),
    d("our X: as a title", "Our school: teachers grade assignments that students submit.",
      {"Teacher", "Assignment", "Student"}, {("Assignment", M2O, "Teacher")}, forbidden={"School"}),
    d("hyphens and accents", "Café owners track to-dos and check-ins.",
      {"CafeOwner", "ToDo", "CheckIn"}, {("ToDo", M2O, "CafeOwner"), ("CheckIn", M2O, "CafeOwner")}),
    d("a known noun first is an entity", "A customer with many orders. A line item and an order.",
      {"Customer", "Order", "LineItem"}, {("Order", M2O, "Customer"), ("LineItem", M2O, "Order")}),
    d("a business first is the system", "A hotel where guests book rooms.", {"Guest", "Room"},
      {("Guest", M2M, "Room")}, forbidden={"Hotel"}),
    d("contractions and possessives", "It's a blog with posts and comments. Let's add it: the owner's pets have "
      "vaccinations. Don't forget invoices.",
      {"Post", "Comment", "Owner", "Pet", "Vaccination", "Invoice"},
      {("Pet", M2O, "Owner"), ("Vaccination", M2O, "Pet")}, forbidden={"It", "Let", "Blog", "ForgetInvoice"}),
    d("we're a business", "We're a dog grooming business. Customers book appointments for their dogs.",
      {"Dog", "Customer", "Appointment"}, {("Appointment", M2O, "Customer"), ("Appointment", M2O, "Dog")}),
    d("two passives sharing a subject", "Books are written by authors and published by publishers.",
      {"Book", "Author", "Publisher"}, {("Book", M2O, "Author"), ("Book", M2O, "Publisher")}),
    d("stated beats a natural pair", "Each user can create many projects, and each project has many tasks with "
      "comments.",
      {"User", "Project", "Task", "Comment"},
      {("Project", M2O, "User"), ("Task", M2O, "Project"), ("Comment", M2O, "Task")}),
    d("user story", "As a user I want to save recipes and organize them into collections.",
      {"User", "Recipe", "Collection"}, forbidden={"SaveRecipe"}),
]


@dataclass(frozen=True)
class FollowUp:
    id: str
    first: str
    then: str
    added: frozenset[str]  # entity names the follow-up adds (exactly)
    relationships: frozenset[Rel] = field(default_factory=frozenset)  # required after the follow-up


FOLLOW_UPS: list[FollowUp] = [
    FollowUp("add tags to posts", "I need a blog with posts, authors, and comments", "also add tags to posts",
             frozenset({"Tag"}), frozenset({("Post", M2M, "Tag")})),
    FollowUp("paid by customers", "We send invoices for orders.", "invoices are paid by customers",
             frozenset({"Customer"}), frozenset({("Invoice", M2O, "Customer"), ("Invoice", M2O, "Order")})),
    FollowUp("pronoun across turns", "restaurants have menu items, customers place orders",
             "Couriers deliver orders and riders rate restaurants.", frozenset({"Courier", "Rider"}),
             frozenset({("Order", M2O, "Courier"), ("Order", M2O, "Customer")})),
    FollowUp("a description with add is not a request", "Customers have carts.",
             "Customers add products to carts.", frozenset({"Product"}),
             frozenset({("Product", "many-to-one", "Customer")})),
    FollowUp("multi-word noun refers back", "Warehouses hold purchase orders.",
             "Each purchase order has many line items.", frozenset({"LineItem"}),
             frozenset({("LineItem", M2O, "PurchaseOrder")})),
]
