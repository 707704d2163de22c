"""The words of the bundled sample posts: name fillers and post templates.

All written for this project (not taken from any dataset). Person,
organisation and product names are invented; places are real, well-known
place names. `make_samples.py` turns these into tagged posts.

Template syntax (text and caption):
  {PER} {LOC} {ORG.team} {MISC.event} ...  an entity filler of that type and
                                           sub-kind; a trailing digit
                                           ({PER2}) asks for a second, different
                                           filler; the same slot twice means
                                           the same name.
  {...:#}       the filler written as a hashtag (#NewYork), still an entity
  {...:lower}   the filler in lower case, as people type it
  {@} {URL} {EMO} {NUM}                    a handle, a t.co link, an emoji, a
                                           number: never entities
Captions may use the entity slots of their post (always written plainly).
"""

from __future__ import annotations

from dataclasses import dataclass

# Fillers per "TYPE.kind". `DEV_ONLY_FILLERS` are never used in train, so dev
# measures whether a model generalises to unseen names.
FILLERS: dict[str, list[str]] = {
    "PER": [
        "Maya Okafor", "Liam Castellano", "Priya Raman", "Jonah Whitfield", "Elena Sorokina",
        "Marcus Bell", "Aiko Tanabe", "Diego Fuentes", "Hannah Lindqvist", "Tobias Reyes",
        "Nia Adeyemi", "Oscar Brandt", "Sofia Marchetti", "Kwame Mensah", "Chloe Durand",
        "Rafael Ortega", "Ines Moreau", "Dev Malhotra", "Grace Whitaker", "Yusuf Demir",
        "Lena Hoffmann", "Caleb Turner", "Zara Quinn", "Mateo Silva", "Freya Nilsen",
        "Andre Baptiste", "Ruby Calloway", "Sam Okoro", "Jade Moon", "Viktor Hale",
        "Kezia", "DJ Solace", "Rosa Alvarado", "Theo Blackwood",
    ],
    "LOC": [
        "Chicago", "New York", "London", "Lagos", "Toronto", "Seattle", "Buenos Aires",
        "Manchester", "Dublin", "Austin", "Nairobi", "Lisbon", "Melbourne", "Brooklyn",
        "Miami", "Texas", "California", "Paris", "Tokyo", "Boston", "Cape Town",
        "Mexico City", "Glasgow", "Denver", "Ohio", "Atlanta",
    ],
    "LOC.landmark": [
        "Central Park", "Table Mountain", "Golden Gate Bridge", "Lake Tahoe", "Hyde Park",
        "Venice Beach", "Mount Rainier", "Times Square",
    ],
    "ORG.team": [
        "Harbor City FC", "Red Hollow Rangers", "Ironbridge United", "Sunvale Hawks",
        "Bay Street Bulls", "Northgate Wolves", "Riverside Comets",
    ],
    "ORG.company": [
        "Vantor Labs", "Orbitel", "Kestrel Motors", "Brightline Bank", "Bluepeak Records",
        "Coastline Energy", "Pixelforge", "Marigold Foods",
    ],
    "ORG.media": ["Daily Ledger", "WKRX News", "Channel 9", "Metro Wire", "The Pulse"],
    "ORG.gov": ["City Council", "Metro Police", "Fire Department", "Transport Authority"],
    "ORG.school": ["Riverside High", "Sunvale University", "Oakmont Academy", "Westfield College"],
    "ORG.food": ["Maple Street Bakery", "Taco Loco", "Blue Door Cafe", "Nonna's Kitchen"],
    "ORG.airline": ["Northwind Airlines", "SkyPorter", "Bluejay Air"],
    "ORG.charity": ["Greenleaf Foundation", "Clean Shores", "Hope Kitchen"],
    "MISC.event": [
        "Summer Sound Festival", "World Cup", "Harvest Fair", "Champions Cup", "Black Friday",
        "Winter Classic", "Pride Parade", "Night Market", "Comic Con",
    ],
    "MISC.award": ["Golden Reel Awards", "Oscars", "Grammys", "Silver Mic Awards"],
    "MISC.product": ["Pixel Nova 3", "Aurora X2", "Volt Buds", "Kestrel EV", "Skyline Watch"],
    "MISC.work": ["Moonrise", "Star Trail", "Galaxy Drift", "Paper Lanterns", "Salt and Ember", "Midnight Bloom"],
    "MISC.norp": ["Brazilian", "Irish", "Canadian", "Nigerian", "Mexican", "Japanese", "Scottish"],
}

DEV_ONLY_FILLERS: dict[str, list[str]] = {
    "PER": [
        "Amara Nwosu", "Felix Bergstrom", "Lucia Ferraro", "Hiro Matsuda", "Talia Brooks",
        "Emeka Obi", "Nadia Karimi", "Bruno Lacerda", "Ivy Fairbanks", "Omar Haddad",
    ],
    "LOC": ["Oslo", "Kyoto", "Marrakech", "Vancouver", "Santiago", "Edinburgh", "Hanoi", "New Orleans", "Accra"],
    "LOC.landmark": ["Stanley Park", "Bondi Beach", "Red Rocks"],
    "ORG.team": ["Lakeshore Lions", "Westbrook Rovers", "Copper Valley FC"],
    "ORG.company": ["Quanta Robotics", "Nimbus Telecom", "Silverfin Media"],
    "ORG.media": ["Evening Courier", "KZTV"],
    "ORG.gov": ["Port Authority", "Parks Department"],
    "ORG.school": ["Eastgate College", "Hillcrest Prep"],
    "ORG.food": ["Hollow Oak Brewery", "Saffron House"],
    "ORG.airline": ["Polaris Air"],
    "ORG.charity": ["Open Arms Trust"],
    "MISC.event": ["Lantern Night", "Coastal Derby", "Spring Jam", "Film Week"],
    "MISC.award": ["Bright Lights Awards"],
    "MISC.product": ["Orbit Pro 5", "Halo Lens"],
    "MISC.work": ["Velvet Skies", "Ember Quest", "The Long Tide"],
    "MISC.norp": ["Kenyan", "Nordic", "Portuguese"],
}

HANDLES = [
    "@jessbakes", "@thedailyscroll", "@kev_on_air", "@sportsdesk", "@citybuzz", "@moonlitmel",
    "@trafficwatch", "@foodie_fran", "@goalhub", "@techbyte", "@nightowl_j", "@localnews247",
]

EMOJI = ["🔥", "😂", "🙌", "😍", "🎉", "👀", "💯", "🙏", "😭", "❤", "✨", "😎", "🤔", "👏", "📸", "☕"]


@dataclass(frozen=True)
class Template:
    text: str
    captions: tuple[str, ...]
    theme: str  # what the drawn image shows; see make_samples.THEMES
    dev_only: bool = False


T = Template
TEMPLATES: list[Template] = [
    T("RT {@} : {PER} just landed in {LOC} for the {MISC.event} {EMO} {URL}",
      ("a woman waving at an airport", "a man walking out of an airport terminal"), "person"),
    T("{PER} scores again for {ORG.team} ! what a night {EMO}",
      ("a soccer player celebrating in a stadium",), "stadium"),
    T("can't believe {ORG.team} lost to {ORG.team2} at home smh",
      ("football players on a green field",), "stadium"),
    T("Traffic is a mess on the way into {LOC} this morning {URL}",
      ("cars stuck in traffic on a highway", "a busy road in {LOC}"), "city"),
    T("{ORG.company} announces the {MISC.product} , out next month {URL}",
      ("a smartphone on a white table", "a new gadget on display"), "product"),
    T("who else is going to {MISC.event} in {LOC} this weekend ?? {EMO}",
      ("a crowd at an outdoor music festival",), "crowd"),
    T("sunset over {LOC} never gets old {EMO} #nofilter",
      ("a sunset over the water in {LOC}", "an orange sky over the sea"), "nature"),
    T("{PER} and {PER2} on stage together at the {MISC.award} {EMO}",
      ("two people on a stage under bright lights",), "stage"),
    T("Breaking : {ORG.gov} confirms new rules for {LOC} schools {URL}",
      ("a man speaking at a podium",), "person"),
    T("lmao {PER:lower} really said that on live tv 😂😂",
      ("a screenshot of a television interview",), "screen"),
    T("Happy birthday {PER} ! {EMO} hope it's a great one",
      ("a birthday cake with candles",), "food"),
    T("best tacos in {LOC} ? {@} says {ORG.food} , no contest",
      ("a plate of tacos on a wooden table",), "food"),
    T("new episode of {MISC.work} tonight on {ORG.media} , don't miss it",
      ("a poster of a tv show", "a tv screen in a dark room"), "screen"),
    T("{ORG.school} students march through downtown {LOC} {URL}",
      ("students marching with signs on a street in {LOC}",), "crowd"),
    T("{LOC:#} is beautiful today {EMO}",
      ("a city park with trees in {LOC}", "green trees and a blue sky"), "nature"),
    T("{MISC.norp} fans are taking over {LOC} ahead of the {MISC.event}",
      ("fans in jerseys on a city street",), "crowd"),
    T("just finished {MISC.work} and wow . {PER} was incredible in it",
      ("a movie poster with a face on it",), "poster"),
    T("Listening to the new {PER} album {MISC.work} on repeat {EMO}",
      ("an album cover with a colorful pattern",), "poster"),
    T("RT {@} : {ORG.company} is hiring in {LOC} ! apply here {URL}",
      ("an office building with glass windows",), "city"),
    T("Morning run along the river in {LOC} {EMO} {NUM} miles done",
      ("a person running along a river path",), "nature"),
    T("{PER} signs a new deal with {ORG.team} through 2027",
      ("a player holding up a team jersey",), "person"),
    T("Power outage across parts of {LOC} , {ORG.company} says crews are on the way {URL}",
      ("a dark city street at night",), "city"),
    T("omg the {MISC.product} is finally here {EMO} {EMO}",
      ("a phone in its box", "a hand holding a new phone"), "product"),
    T("{ORG.media} reporter {PER} live from {LOC} {URL}",
      ("a reporter holding a microphone outside",), "person"),
    T("Throwback to {MISC.event} with the squad {EMO} #tbt",
      ("a group of friends smiling at a festival",), "crowd"),
    T("{PER} : “ we did it for {LOC} ” {EMO}",
      ("a player raising a trophy",), "stadium"),
    T("Snow day in {LOC} ❄ stay safe everyone",
      ("a snowy street with parked cars", "snow falling on houses in {LOC}"), "nature"),
    T("congrats to {PER} on joining {ORG.company} !! {EMO}",
      ("a woman smiling in an office",), "person"),
    T("{ORG.team} vs {ORG.team2} tonight at {NUM} pm , who you got ?",
      ("a stadium lit up at night",), "stadium"),
    T("the line at {ORG.food} in {LOC} is insane rn",
      ("a long line of people outside a shop",), "crowd"),
    T("Reading {MISC.work} by {PER} this weekend , any thoughts ?",
      ("a book on a blanket with a cup of coffee",), "product"),
    T("{PER} visits {LOC} to meet families hit by the floods {URL}",
      ("a man talking with people in a flooded street",), "person"),
    T("Protest outside {ORG.gov} headquarters in {LOC} {URL}",
      ("people holding signs outside a building",), "crowd"),
    T("{PER:lower} x {PER2:lower} collab when ?? {EMO}",
      ("two people posing for a photo",), "person"),
    T("Heading to {LOC} then {LOC2} next week , tips welcome {EMO}",
      ("a suitcase next to a window", "an airplane wing above the clouds"), "nature"),
    T("{ORG.company} stock jumps after {MISC.product} launch {URL}",
      ("a chart on a computer screen",), "screen"),
    T("RT {@} : Tickets for {MISC.event} go on sale Friday ! {MISC.event:#}",
      ("a colorful festival poster",), "poster"),
    T("{PER} wins best actor at the {MISC.award} {EMO}",
      ("an actor holding an award on stage",), "stage"),
    T("Rainy day in {LOC} = coffee and {MISC.work} {EMO}",
      ("a cup of coffee by a rainy window",), "food"),
    T("{ORG.school} wins the state title !! {ORG.school:#}",
      ("a team celebrating with a trophy",), "stadium"),
    T("so proud of my {MISC.norp} team today {EMO} {LOC:#}",
      ("fans waving flags in the stands",), "crowd"),
    T("Police close a bridge in {LOC} after a crash , avoid the area {URL}",
      ("police cars on a bridge",), "city"),
    T("{PER}'s new look for the {MISC.award} 🔥",
      ("a woman in a red dress on a carpet",), "person"),
    T("Fire at a warehouse near {LOC} , {ORG.gov} on scene {URL}",
      ("smoke rising over buildings",), "city"),
    T("Who's watching {ORG.team} tonight ? {EMO}",
      ("a crowd at a sports bar watching a game",), "crowd"),
    T("{ORG.company} customer service is the worst , been on hold {NUM} minutes",
      ("a phone screen showing a call",), "screen"),
    T("{PER} talks {MISC.work} , fame and growing up in {LOC} {URL}",
      ("a woman sitting for an interview",), "person"),
    T("Look at this view from {LOC.landmark} {EMO}",
      ("a view from a hill over a city", "a wide view of {LOC.landmark}"), "nature"),
    T("Weekend market at {LOC.landmark} , so many good things {EMO}",
      ("market stalls with fruit and flowers",), "food"),
    T("ugh mondays . need coffee {EMO}",
      ("a cup of coffee on a desk",), "food"),
    T("this weather is unreal {EMO} {URL}",
      ("a blue sky with clouds",), "nature"),
    T("good morning everyone , have a great day {EMO}",
      ("a sunrise over rooftops",), "nature"),
    T("{MISC.norp} food night at home {EMO} recipe below {URL}",
      ("a table full of dishes",), "food"),
    T("{PER} drops {NUM} points as {ORG.team} beat {ORG.team2}",
      ("a basketball player jumping to the hoop",), "stadium"),
    T("RT {@} : {ORG.media} confirms {PER} will host the {MISC.award} {URL}",
      ("a host smiling on stage",), "stage"),
    T("the {MISC.product} camera is actually so good , took this in {LOC}",
      ("a bright photo of a street in {LOC}",), "city"),
    T("Flight to {LOC} delayed again , thanks {ORG.airline} {EMO}",
      ("people waiting at an airport gate",), "crowd"),
    T("Volunteers from {ORG.charity} cleaning up {LOC.landmark} today {EMO} {URL}",
      ("people picking up litter in a park",), "nature"),
    # Dev-only templates: sentence shapes a model has not seen in train.
    T("{PER:lower} is the goat no debate", ("a player on a court",), "stadium", dev_only=True),
    T("{LOC} !!! {EMO} {EMO}", ("a city skyline in {LOC}",), "city", dev_only=True),
    T("Dinner with {PER} at {ORG.food} , highly recommend the pasta",
      ("a plate of pasta",), "food", dev_only=True),
    T("{ORG.media} : {PER} to step down as mayor of {LOC} {URL}",
      ("a man at a press conference",), "person", dev_only=True),
    T("{MISC.event:#} {LOC:#} {EMO}", ("a crowd in front of a stage",), "crowd", dev_only=True),
    T("anyone know if {ORG.airline} flies from {LOC} to {LOC2} ?",
      ("a plane on a runway",), "city", dev_only=True),
]
