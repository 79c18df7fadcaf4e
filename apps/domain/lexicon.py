"""What the offline extractor knows about common domain nouns: typed fields, the usual
parent of each, and attribute words. The keys of ``ENTITIES`` are *concepts*: an entity
is always named after the person's own word ("clients" → ``Client``), and the concept its
word (or the last word of it) is an alias of only lends it fields and a usual parent.
Field specs are ``name:type`` plus ``!`` (required), ``^`` (unique), ``(a|b)`` (enum
values) and ``=default``; every entity also gets an ``id`` (uuid) first and a
``createdAt`` timestamp last.
"""
from __future__ import annotations

from typing import Any, Final

# Name → (aliases, field specs). Aliases are singular, lower case; plurals are derived.
ENTITIES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "User": (("user", "account"), ("email:string!^", "name:string!", "role:enum(admin|member)=member")),
    "Author": (("author", "writer", "blogger"), ("name:string!", "email:string!^", "bio:text")),
    "Post": (("post", "article", "blog post"),
             ("title:string!", "slug:string!^", "content:text!", "status:enum(draft|published|archived)=draft",
              "publishedAt:datetime")),
    "Comment": (("comment", "reply"), ("content:text!", "approved:boolean!=false")),
    "Tag": (("tag", "label", "keyword"), ("name:string!^", "slug:string!^")),
    "Category": (("category", "genre"), ("name:string!^", "description:text")),
    "Project": (("project", "board"),
                ("name:string!", "description:text", "status:enum(active|on_hold|archived)=active")),
    "Task": (("task", "todo", "to-do", "issue", "chore"),
             ("title:string!", "description:text", "status:enum(todo|in_progress|done)=todo",
              "priority:enum(low|medium|high)=medium", "dueDate:date")),
    "Team": (("team", "squad"), ("name:string!^",)),
    "Product": (("product", "item"),
                ("name:string!", "sku:string!^", "description:text", "price:decimal!", "stock:integer!=0")),
    "Customer": (("customer", "buyer", "client", "shopper"), ("name:string!", "email:string!^", "phone:string")),
    "Order": (("order", "purchase"),
              ("number:string!^", "status:enum(pending|paid|shipped|delivered|cancelled)=pending",
               "total:decimal!", "placedAt:datetime!")),
    "OrderItem": (("order item", "line item", "order line"), ("quantity:integer!", "unitPrice:decimal!")),
    "Invoice": (("invoice", "bill"),
                ("number:string!^", "amount:decimal!", "status:enum(draft|issued|paid|overdue)=draft",
                 "issuedOn:date!", "dueDate:date")),
    "Payment": (("payment", "transaction"),
                ("amount:decimal!", "method:enum(card|bank_transfer|cash)", "status:enum(pending|succeeded|failed)",
                 "paidAt:datetime")),
    "Review": (("review", "testimonial"), ("rating:integer!", "comment:text")),
    "Supplier": (("supplier", "vendor"), ("name:string!", "email:string^")),
    "Hotel": (("hotel", "resort"), ("name:string!", "address:string!", "city:string!", "stars:integer")),
    "Room": (("room", "suite"),
             ("number:string!", "type:enum(single|double|suite)", "pricePerNight:decimal!", "capacity:integer!")),
    "Guest": (("guest", "visitor"), ("name:string!", "email:string!^", "phone:string")),
    "Booking": (("booking", "reservation"),
                ("checkIn:date!", "checkOut:date!", "status:enum(pending|confirmed|cancelled|completed)=pending",
                 "totalPrice:decimal")),
    "Student": (("student", "pupil", "learner"), ("name:string!", "email:string!^", "dateOfBirth:date")),
    "Teacher": (("teacher", "instructor", "professor", "tutor", "lecturer"), ("name:string!", "email:string!^")),
    "Course": (("course", "class", "subject", "module"),
               ("title:string!", "code:string!^", "description:text", "credits:integer")),
    "Enrollment": (("enrollment", "enrolment", "registration", "signup"),
                   ("status:enum(active|completed|dropped)=active", "enrolledOn:date!", "grade:string")),
    "Assignment": (("assignment", "homework", "exam"), ("title:string!", "dueDate:date", "maxScore:integer")),
    "Book": (("book", "novel"), ("title:string!", "isbn:string!^", "publishedYear:integer")),
    "Copy": (("copy", "book copy"), ("barcode:string!^", "condition:enum(new|good|worn|damaged)=good")),
    "Member": (("member", "patron", "borrower", "reader", "subscriber"),
               ("name:string!", "email:string!^", "joinedOn:date!")),
    "Loan": (("loan", "checkout", "borrowing", "rental"),
             ("borrowedAt:datetime!", "dueDate:date!", "returnedAt:datetime")),
    "Patient": (("patient",), ("name:string!", "dateOfBirth:date!", "email:string^", "phone:string")),
    "Doctor": (("doctor", "physician", "practitioner", "dentist", "vet", "therapist", "nurse"),
               ("name:string!", "specialty:string", "email:string!^")),
    "Clinic": (("clinic", "hospital"), ("name:string!", "address:string")),
    "Appointment": (("appointment", "visit", "consultation"),
                    ("startsAt:datetime!", "endsAt:datetime", "reason:text",
                     "status:enum(scheduled|completed|cancelled|no_show)=scheduled")),
    "Prescription": (("prescription", "medication"), ("medication:string!", "dosage:string!", "issuedOn:date!")),
    "Vehicle": (("vehicle", "truck", "van", "car", "lorry"),
                ("plateNumber:string!^", "model:string", "capacityKg:integer",
                 "status:enum(available|on_route|maintenance)=available")),
    "Driver": (("driver",), ("name:string!", "licenseNumber:string!^", "phone:string")),
    "Shipment": (("shipment", "delivery", "parcel", "package", "consignment"),
                 ("trackingNumber:string!^", "status:enum(created|in_transit|delivered|failed)=created",
                  "weightKg:decimal", "deliveredAt:datetime")),
    "Route": (("route", "trip", "journey"), ("name:string!", "origin:string!", "destination:string!",
                                             "distanceKm:decimal")),
    "Warehouse": (("warehouse", "depot", "hub"), ("name:string!", "address:string!")),
    "Event": (("event", "concert", "conference", "festival", "meetup"),
              ("name:string!", "startsAt:datetime!", "endsAt:datetime", "capacity:integer",
               "status:enum(draft|on_sale|sold_out|cancelled)=draft")),
    "Venue": (("venue", "stadium", "theatre", "theater"),
              ("name:string!", "address:string!", "capacity:integer")),
    "Ticket": (("ticket",), ("code:string!^", "price:decimal!", "status:enum(reserved|paid|checked_in|refunded)")),
    "TicketType": (("ticket type", "ticket tier", "tier"), ("name:string!", "price:decimal!", "quantity:integer!")),
    "Attendee": (("attendee", "participant"), ("name:string!", "email:string!^")),
    "Organizer": (("organizer", "organiser", "promoter"), ("name:string!", "email:string!^")),
    "Job": (("job", "opening", "vacancy", "job posting", "job opening"),
            ("title:string!", "description:text", "location:string", "status:enum(draft|open|closed)=draft",
             "salaryMin:decimal", "salaryMax:decimal")),
    "Candidate": (("candidate", "applicant"), ("name:string!", "email:string!^", "phone:string", "resumeUrl:string")),
    "Application": (("application",),
                    ("status:enum(applied|screening|interview|offer|hired|rejected)=applied",
                     "appliedAt:datetime!")),
    "Interview": (("interview",), ("scheduledAt:datetime!", "kind:enum(phone|video|onsite)", "feedback:text",
                                   "score:integer")),
    "Recruiter": (("recruiter", "hiring manager", "interviewer"), ("name:string!", "email:string!^")),
    "Offer": (("offer",), ("salary:decimal!", "status:enum(draft|sent|accepted|declined)=draft", "sentAt:datetime")),
    "Company": (("company", "employer", "organization", "organisation", "business"),
                ("name:string!", "website:string")),
    "Employee": (("employee", "staff member", "worker"), ("name:string!", "email:string!^", "jobTitle:string")),
    "Department": (("department",), ("name:string!^",)),
    "Message": (("message",), ("body:text!", "sentAt:datetime!")),
    "Attachment": (("attachment", "file", "document"), ("fileName:string!", "url:string!", "sizeBytes:integer")),
    "Subscription": (("subscription",), ("status:enum(trial|active|cancelled)=trial", "startsOn:date!",
                                         "renewsOn:date")),
    "Plan": (("pricing plan", "subscription plan"), ("name:string!^", "price:decimal!")),
    "Photo": (("photo", "image", "picture"), ("url:string!", "caption:string")),
    "Recipe": (("recipe",), ("title:string!", "instructions:text!", "servings:integer")),
    "Ingredient": (("ingredient",), ("name:string!^", "unit:string")),
    "Pet": (("pet", "dog", "cat", "animal"), ("name:string!", "species:string!", "breed:string", "birthDate:date")),
    "Owner": (("owner", "pet owner", "landlord"), ("name:string!", "email:string!^", "phone:string")),
    "Vaccination": (("vaccination", "vaccine", "immunization", "immunisation"),
                    ("vaccine:string!", "administeredOn:date!", "nextDueOn:date")),
    "Restaurant": (("restaurant", "cafe", "bakery", "diner", "eatery"),
                   ("name:string!", "address:string!", "cuisine:string", "phone:string")),
    "Menu": (("menu",), ("name:string!", "activeFrom:date")),
    "MenuItem": (("menu item", "dish", "meal"), ("name:string!", "description:text", "price:decimal!",
                                                  "available:boolean!=true")),
    "Courier": (("courier", "rider", "delivery driver"),
                ("name:string!", "phone:string!", "status:enum(available|on_delivery|offline)=available")),
    "Address": (("address",), ("street:string!", "city:string!", "postalCode:string", "country:string!")),
    "Person": (("person", "contact", "individual"), ("name:string!", "email:string^", "phone:string")),
    "Child": (("child", "kid"), ("name:string!", "birthDate:date!")),
    "Meeting": (("meeting", "session"), ("title:string!", "startsAt:datetime!", "endsAt:datetime")),
}

# Every alias (singular, lower case, one or two words) → its concept.
ALIASES: Final[dict[str, str]] = {alias: concept for concept, (aliases, _) in ENTITIES.items() for alias in aliases}

# Child → groups of possible parents; in each group the first entity present wins.
# "Target:role" names the relationship (Post → User as "author").
PARENTS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "Post": (("Author", "User:author"), ("Category",)),
    "Comment": (("Post", "Task", "Photo", "Recipe"), ("User:author", "Author", "Member:author", "Customer:author")),
    "Task": (("Project",), ("User:assignee", "Employee:assignee", "Member:assignee")),
    "Project": (("Team", "Company", "Customer"),),
    "Order": (("Customer", "User:customer", "Member:customer"),),
    "OrderItem": (("Order",), ("Product",)),
    "Invoice": (("Order", "Booking", "Appointment"), ("Customer", "Guest", "Patient")),
    "Payment": (("Invoice", "Order", "Booking"),),
    "Review": (("Product", "Hotel", "Book", "Course", "Doctor", "Recipe"), ("Customer:author", "User:author",
                                                                           "Guest:author")),
    "Product": (("Category",), ("Supplier",)),
    "Room": (("Hotel",),),
    "Booking": (("Guest", "Customer", "User:guest", "Member"), ("Room", "Event", "Hotel")),
    "Course": (("Teacher",),),
    "Enrollment": (("Student",), ("Course",)),
    "Assignment": (("Course",),),
    "Book": (("Author",), ("Category",)),
    "Copy": (("Book",),),
    "Loan": (("Member", "Student", "User:borrower"), ("Copy", "Book")),
    "Doctor": (("Clinic",),),
    "Appointment": (("Patient", "Pet"), ("Doctor",)),
    "Prescription": (("Appointment", "Patient"), ("Doctor",)),
    "Vehicle": (("Warehouse",),),
    "Driver": (("Vehicle",),),
    "Shipment": (("Vehicle",), ("Driver",), ("Route",), ("Customer",), ("Warehouse:origin",)),
    "Event": (("Venue",), ("Organizer", "Company:organizer")),
    "Ticket": (("Event",), ("TicketType",), ("Attendee", "Customer:holder", "User:holder"), ("Order",)),
    "TicketType": (("Event",),),
    "Attendee": (("Event",),),
    "Job": (("Company",), ("Recruiter", "Employee:recruiter"), ("Department",)),
    "Application": (("Candidate",), ("Job",)),
    "Interview": (("Application",), ("Recruiter:interviewer", "Employee:interviewer")),
    "Offer": (("Application",),),
    "Employee": (("Department", "Company"),),
    "Department": (("Company",),),
    "Message": (("User:sender", "Member:sender", "Customer:sender"),),
    "Attachment": (("Message", "Task", "Post"),),
    "Subscription": (("Customer", "User", "Member"), ("Plan",)),
    "Photo": (("User:owner", "Member:owner"),),
    "Ingredient": (),
    "Pet": (("Owner", "Customer:owner", "Person:owner", "Client:owner"),),
    "Vaccination": (("Pet", "Patient"),),
    "MenuItem": (("Restaurant", "Menu"),),
    "Menu": (("Restaurant",),),
    "Address": (),
}

# Pairs that are many-to-many by nature (the first holds the link).
MANY_TO_MANY: Final[frozenset[tuple[str, str]]] = frozenset({
    ("Post", "Tag"), ("Task", "Tag"), ("Product", "Tag"), ("Book", "Tag"), ("Photo", "Tag"), ("Recipe", "Tag"),
    ("Recipe", "Ingredient"), ("Event", "Tag"),
    ("User", "Team"), ("Employee", "Team"),
})

# "An appointment for a pet" belongs to the pet (the reverse of "invoices for orders"):
# concepts that are occasions made *for* something.
OCCASIONS: Final[frozenset[str]] = frozenset({"Appointment", "Booking", "Meeting", "Interview"})

# "A clinic with appointments": a known noun that, introduced with "a" at the start, names
# the business being built rather than one of its entities.
BUSINESSES: Final[frozenset[str]] = frozenset({"Clinic", "Hotel", "Restaurant", "Company"})

# Attribute words that name entities of their own when the person writes them in the
# plural ("customers have addresses"); in the singular they stay fields ("an address").
ENTITY_ATTRIBUTES: Final[frozenset[str]] = frozenset({"address", "status", "location", "note"})

# Attribute words → field spec (without the entity-specific enum values for "status").
ATTRIBUTES: Final[dict[str, str]] = {
    "price": "price:decimal!", "cost": "cost:decimal", "amount": "amount:decimal!", "total": "total:decimal",
    "budget": "budget:decimal", "salary": "salary:decimal", "fee": "fee:decimal",
    "email": "email:string!^", "email address": "email:string!^", "phone": "phone:string",
    "phone number": "phone:string", "address": "address:string", "name": "name:string!",
    "title": "title:string!", "description": "description:text", "notes": "notes:text", "note": "notes:text",
    "bio": "bio:text", "body": "body:text", "summary": "summary:text",
    "status": "status:enum(active|inactive)=active", "priority": "priority:enum(low|medium|high)=medium",
    "due date": "dueDate:date", "deadline": "deadline:date", "start date": "startDate:date",
    "end date": "endDate:date", "date of birth": "dateOfBirth:date", "birthday": "dateOfBirth:date",
    "date": "date:date", "time": "startsAt:datetime", "start time": "startsAt:datetime",
    "end time": "endsAt:datetime", "duration": "durationMinutes:integer",
    "quantity": "quantity:integer!", "stock": "stock:integer!=0", "capacity": "capacity:integer",
    "age": "age:integer", "score": "score:integer", "rating": "rating:integer", "position": "position:integer",
    "weight": "weightKg:decimal", "color": "color:string", "colour": "color:string", "url": "url:string",
    "website": "website:string", "link": "url:string", "slug": "slug:string!^", "sku": "sku:string!^",
    "isbn": "isbn:string!^", "code": "code:string!^", "currency": "currency:string",
    "location": "location:string", "avatar": "avatarUrl:string", "logo": "logoUrl:string",
    "password": "passwordHash:string!", "username": "username:string!^", "metadata": "metadata:json",
    "settings": "settings:json", "active flag": "active:boolean!=true", "published flag": "published:boolean!=false",
}


def parse_field(spec: str) -> tuple[str, dict[str, Any]]:
    """``"status:enum(a|b)=a"`` → ``("status", {"type": "enum", "values": [...], "default": "a", …})``."""
    name, _, rest = spec.partition(":")
    default: str | None = None
    if "=" in rest:
        rest, default = rest.split("=", 1)
    values: list[str] | None = None
    if "(" in rest:
        rest, _, listed = rest.partition("(")
        values = listed.rstrip(")").split("|")
    required, unique = "!" in rest, "^" in rest
    ftype = rest.replace("!", "").replace("^", "")
    field: dict[str, Any] = {"type": ftype, "required": required}
    if unique:
        field["unique"] = True
    if values is not None:
        field["values"] = values
    if default is not None:
        field["default"] = {"false": False, "true": True}.get(default, int(default) if default.isdigit()
                                                             and ftype == "integer" else default)
    return name, field


def concept_of(words: tuple[str, ...]) -> str | None:
    """The concept of a singular noun phrase: the whole phrase, its last two words, or its last word."""
    for size in (len(words), 2, 1):
        if 0 < size <= len(words):
            concept = ALIASES.get(" ".join(words[-size:]))
            if concept:
                return concept
    return None


def entity_fields(concept: str | None) -> dict[str, dict[str, Any]]:
    """The typed fields for an entity of ``concept`` (a minimal generic set for an unknown noun)."""
    specs = ENTITIES[concept][1] if concept in ENTITIES else ("name:string!",)
    fields = {"id": {"type": "uuid", "required": True}}
    fields.update(parse_field(spec) for spec in specs)
    fields["createdAt"] = {"type": "datetime", "required": True, "default": "now"}
    return fields
