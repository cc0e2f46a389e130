//! The words of the demo: what customers write and agents answer, by category. Slots in
//! braces are filled from the lists below, so a few hundred sentences become thousands
//! of distinct conversations.

/// Subject and first message templates, by category slug.
pub const REQUESTS: &[(&str, &[(&str, &str)])] = &[
    (
        "technical",
        &[
            (
                "The {product} app crashes when I open settings",
                "Since the last update the {product} app closes by itself every time I tap on Settings. I'm on a {device}. I already tried reinstalling it, same thing. Could you have a look?",
            ),
            (
                "Can't log in since yesterday",
                "I keep getting \"invalid session\" when I try to sign in on my {device}. My password works on the website, just not in the app. This started yesterday evening.",
            ),
            (
                "{product} won't pair over Bluetooth",
                "My {product} doesn't show up in the Bluetooth list anymore. It worked fine for two weeks. I reset it as the manual says (holding the button 10 seconds) but nothing changed.",
            ),
            (
                "Sync stopped working",
                "My data hasn't synced between my {device} and the web dashboard since {date}. The little cloud icon just spins. Is there an outage?",
            ),
            (
                "Firmware update stuck at 60%",
                "I started the firmware update on my {product} and it's been stuck at 60% for over an hour. Is it safe to unplug it? I don't want to brick it.",
            ),
            (
                "Error 502 on the checkout page",
                "Every time I try to pay, the page shows \"502 Bad Gateway\". Tried Chrome and Firefox on my {device}. My cart has {count} items in it.",
            ),
            (
                "Notifications arrive hours late",
                "Alerts from the {product} reach my {device} two or three hours after the event. Battery saver is off. Is this a known problem?",
            ),
            (
                "Export to CSV gives an empty file",
                "When I export my history to CSV I get a file with only the header row. I have definitely got data going back to {date}.",
            ),
        ],
    ),
    (
        "billing",
        &[
            (
                "Charged twice for order {order}",
                "Hi, I was charged {amount} twice for order {order} — both show on my card statement from {date}. Can you refund one of them please?",
            ),
            (
                "Refund not received yet",
                "You confirmed my refund for order {order} on {date}, but I still don't see the {amount} on my account. How long does it usually take?",
            ),
            (
                "Please cancel my subscription",
                "I'd like to cancel my subscription before the next renewal. I didn't find the option in my account settings. Thanks.",
            ),
            (
                "Invoice needs our VAT number",
                "Could you reissue the invoice for order {order} with our company VAT number on it? Our accounting department can't book it otherwise.",
            ),
            (
                "Why did my plan price go up?",
                "My monthly charge went from {amount} to more than that this month and I didn't get any notice. Can you explain what changed?",
            ),
            (
                "Discount code didn't apply",
                "I used the code WELCOME10 on order {order} but was charged the full {amount}. The code was in your newsletter from {date}.",
            ),
            (
                "Payment declined but card works",
                "My card keeps getting declined at checkout, but it works everywhere else. Bank says they see no attempt from you at all.",
            ),
        ],
    ),
    (
        "product-guidance",
        &[
            (
                "How do I set up {product} for two users?",
                "We just bought the {product} and want both me and my partner to use it with our own profiles. Is that possible, and how?",
            ),
            (
                "Which model fits my needs?",
                "I'm choosing between the standard and the pro version of the {product}. I mostly use it for travel. What's the real difference?",
            ),
            (
                "Best way to clean the {product}?",
                "The manual doesn't say much about cleaning. Can I put the removable parts of the {product} in the dishwasher?",
            ),
            (
                "Is {product} compatible with my {device}?",
                "Before I order: will the {product} work with a {device}? The product page isn't clear about it.",
            ),
            (
                "Tips for longer battery life",
                "My {product} battery lasts about half the time it says on the box. Are there settings I should change?",
            ),
            (
                "Can I use the {product} abroad?",
                "I'm travelling to Japan next month. Will the {product} work there, and do I need an adapter?",
            ),
        ],
    ),
    (
        "order-management",
        &[
            (
                "Where is my order {order}?",
                "I ordered on {date} and the tracking for {order} hasn't moved in five days. It's a birthday present so I'm getting a bit worried.",
            ),
            (
                "Wrong size delivered",
                "I ordered the {product} in medium but received a large (order {order}). How do I exchange it?",
            ),
            (
                "Package arrived damaged",
                "The box for order {order} was crushed and the {product} inside has a cracked case. I have photos if you need them.",
            ),
            (
                "Change delivery address",
                "I just placed order {order} and noticed the old address is on it. Can you still change it to my new one before it ships?",
            ),
            (
                "Missing item in my parcel",
                "Order {order} should have had {count} items but only part of it arrived. The packing slip lists everything though.",
            ),
            (
                "Return label not working",
                "The return label you emailed for order {order} gives an error at the post office. Could you send a new one?",
            ),
            (
                "Order shows delivered but nothing came",
                "Tracking for {order} says delivered on {date} but there's nothing at my door and the neighbours haven't seen it.",
            ),
        ],
    ),
];

/// Agent replies, by category slug.
pub const REPLIES: &[(&str, &[&str])] = &[
    (
        "technical",
        &[
            "Thanks for the details, {name} — that helps a lot. Could you try clearing the app cache (Settings > Storage > Clear cache) and tell me whether it still happens? If it does, a screenshot of the error would help our engineers.",
            "Sorry about the trouble, {name}. We found a bug in last week's update that causes exactly this on some {device} models. A fix ships tomorrow; I'll check back with you once it's out.",
            "I've reset your session on our side, {name}. Please sign out and in again — it should work now. Let me know either way.",
            "Thanks for your patience, {name}. It's safe to restart the {product} now; the update resumes by itself. If it stays stuck, hold the power button 15 seconds and we'll take it from there.",
        ],
    ),
    (
        "billing",
        &[
            "You're right, {name}, and I'm sorry — the second charge of {amount} was a duplicate. I've refunded it just now; it shows up on your statement within 3–5 business days.",
            "I checked order {order}: the refund left us on {date}. Banks can take up to 10 days to post it. If it's not there by then, reply here and I'll chase it with our payment provider.",
            "Done, {name} — your subscription is cancelled and won't renew. You keep access until the end of the current period.",
            "I've attached a corrected invoice with your VAT number. Sorry for the extra step!",
        ],
    ),
    (
        "product-guidance",
        &[
            "Great question, {name}! Open the app, go to Household > Add member and send them an invite — each person gets their own profile and history.",
            "For mostly travel, the standard {product} is the better pick: it's lighter and the battery lasts longer. The pro adds features you'd mainly use at home.",
            "Yes, it works with a {device}. You'll need the latest version of our app from the store, then follow the pairing steps in the quick-start guide.",
            "The removable parts are dishwasher-safe on the top rack. Wipe the base with a damp cloth only.",
        ],
    ),
    (
        "order-management",
        &[
            "Sorry for the wait, {name}. I contacted the carrier: order {order} was held at the depot and goes out for delivery tomorrow. I'll keep an eye on it.",
            "I'm sorry it arrived like that. I've sent a replacement {product} by express shipping — no need to return the damaged one.",
            "I've updated the address on order {order}; it hadn't left the warehouse yet, so it will go to your new address.",
            "Here's a fresh return label for order {order}. Once we scan the parcel, the exchange ships the same day.",
        ],
    ),
];

/// What customers write back.
pub const FOLLOW_UPS: &[&str] = &[
    "Thanks, that worked!",
    "Still happening, unfortunately. Anything else I can try?",
    "Got it, thank you for the quick answer.",
    "Any update on this? It's been a few days.",
    "Perfect, the refund just showed up. Thanks for your help!",
    "I tried that and now I get a different error message.",
    "Thanks {agent}, really appreciate you following up.",
];

/// Internal notes agents leave each other.
pub const NOTES: &[&str] = &[
    "Customer is a long-time buyer — let's go the extra mile here.",
    "Reproduced on a test device. Filed with engineering.",
    "Checked the payment logs: the duplicate charge is confirmed.",
    "Carrier says the parcel is at the regional depot.",
    "Second time this month for this customer — consider a goodwill voucher.",
    "Waiting on the warehouse to confirm stock before promising a date.",
];

/// Products of the demo shop.
pub const PRODUCTS: &[&str] = &[
    "TrailRunner backpack",
    "Aero 2 headphones",
    "HomeHub",
    "Lumen desk lamp",
    "Pocket espresso maker",
    "FitBand",
    "CloudCam",
    "Breeze air purifier",
];

/// Devices customers use.
pub const DEVICES: &[&str] = &[
    "iPhone 15",
    "Pixel 8",
    "Samsung Galaxy S23",
    "iPad",
    "Windows laptop",
    "MacBook Air",
];

/// Dates as people say them.
pub const DATES: &[&str] = &[
    "Monday",
    "last Tuesday",
    "the 3rd",
    "March 14",
    "the weekend",
    "two weeks ago",
];

/// First names.
pub const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "George", "Hana", "Ivan", "Jasmine", "Kofi",
    "Lena", "Mateo", "Nina", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoë", "Liam", "Sofia", "Noah", "Amara",
];

/// Last names.
pub const LAST: &[&str] = &[
    "García",
    "Müller",
    "Okafor",
    "Smith",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Haddad",
    "Tanaka",
    "Johansson",
    "Silva",
    "Dubois",
    "Novak",
    "Khan",
    "Murphy",
    "Costa",
    "Yilmaz",
    "Schmidt",
    "Larsen",
    "Mensah",
];

/// Mail domains.
pub const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "acme.example",
    "globex.example",
];
