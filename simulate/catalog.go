package simulate

// This file holds the world's vocabulary: venue categories (OpenStreetMap
// keys), brands, interests and daily routines. It is static, read-only data;
// the generator derives everything else from it and the seed.

// Category indices into categoryTable.
const (
	catCafe = iota
	catRestaurant
	catFastFood
	catBar
	catPub
	catNightclub
	catHotel
	catFitness
	catSportsCentre
	catStadium
	catPark
	catBeach
	catBeachResort
	catMuseum
	catAttraction
	catViewpoint
	catZoo
	catPlayground
	catDogPark
	catClothes
	catSportsShop
	catSupermarket
	catElectronics
	catFurniture
	catCarShop
	catBicycleShop
	catPetShop
	catIceCream
	catCinema
	catMall
	catCoworking
	numCats
)

// span is a run of local hours [from, to) with an activity weight; to may be
// smaller than from to wrap past midnight.
type span struct {
	from, to int
	w        float32
}

func hours(base float32, spans ...span) [24]float32 {
	var h [24]float32
	for i := range h {
		h[i] = base
	}
	for _, s := range spans {
		for i := s.from; i != s.to; i = (i + 1) % 24 {
			h[i] = s.w
		}
	}
	return h
}

// Day-of-week multipliers, Monday first. Hours before nightEnd count as the
// previous day's night, so a Saturday 1 a.m. club visit is Friday's.
var (
	daysFlat      = [7]float32{1, 1, 1, 1, 1, 1, 1}
	daysWeekend   = [7]float32{0.8, 0.8, 0.8, 0.9, 1.0, 1.5, 1.4}
	daysNightlife = [7]float32{0.5, 0.6, 0.7, 0.9, 1.6, 1.8, 0.6}
	daysStadium   = [7]float32{0.3, 0.6, 0.6, 0.3, 0.5, 1.6, 1.4}
	daysWork      = [7]float32{1, 1, 1, 1, 1, 0.2, 0.1}
	daysShopping  = [7]float32{0.9, 0.9, 0.9, 1, 1.1, 1.4, 0.8}
	daysGym       = [7]float32{1.2, 1.2, 1.1, 1.1, 0.9, 0.8, 0.8}
)

const nightEnd = 5

// category is a kind of venue, keyed like OpenStreetMap.
type category struct {
	key   string // OSM key=value
	group string // the place group it joins ("coffee", "nightlife", …)
	// weight is how common the category is among venues.
	weight  float64
	polygon bool
	// minR, maxR bound the radius of a point venue, or the half-size of a
	// polygon, in metres.
	minR, maxR float64
	maxPerCity int // 0: no limit
	hours      [24]float32
	days       [7]float32
	brandProb  float64
	names      []string // templates: {A} area, {C} city, {J} adjective, {N} noun, {P} first name, {T} topic
	lines      []string // caption openers
	emojis     []string
	tags       []string // hashtags, lower-case [a-z0-9_]
}

var categoryTable = [numCats]category{
	catCafe: {key: "amenity=cafe", group: "coffee", weight: 12, minR: 50, maxR: 90,
		hours: hours(0.02, span{7, 9, 0.8}, span{9, 12, 1}, span{12, 15, 0.7}, span{15, 18, 0.6}, span{18, 20, 0.2}),
		days:  daysFlat, brandProb: 0.35,
		names: []string{"{J} {N} Coffee", "{A} Roasters", "The {N} Café", "Café {P}", "{P}'s Coffee House", "{J} Bean", "{N} & {N} Coffee"},
		lines: []string{"Morning fuel", "Best flat white in town", "Coffee first, everything else later", "Cappuccino o'clock",
			"Little coffee break", "Latte art on point", "This place never disappoints", "Iced latte kind of day"},
		emojis: []string{"☕", "☕️✨", "🥐☕", "😍"},
		tags:   []string{"coffee", "latte", "flatwhite", "coffeetime", "cafe", "espresso", "cappuccino"}},
	catRestaurant: {key: "amenity=restaurant", group: "food", weight: 14, minR: 50, maxR: 100,
		hours: hours(0.01, span{11, 12, 0.3}, span{12, 15, 1}, span{15, 18, 0.25}, span{18, 19, 0.6}, span{19, 23, 1}, span{23, 0, 0.3}),
		days:  daysWeekend, brandProb: 0.08,
		names: []string{"Trattoria {P}", "{P}'s Kitchen", "The {J} {N}", "{A} Bistro", "Casa {P}", "Salt & {N}", "{J} Table", "Osteria {P}"},
		lines: []string{"Dinner was unreal", "Brunch goals", "Date night done right", "Could eat here every day",
			"Pasta heaven", "Sunday lunch with the crew", "Chef's kiss", "Trying the new menu"},
		emojis: []string{"🍝", "🍽️", "🤤", "🥂", "😋"},
		tags:   []string{"foodie", "dinner", "brunch", "instafood", "foodporn", "yum", "datenight"}},
	catFastFood: {key: "amenity=fast_food", group: "food", weight: 6, minR: 50, maxR: 90,
		hours: hours(0.05, span{7, 11, 0.3}, span{11, 15, 1}, span{15, 18, 0.6}, span{18, 23, 0.9}, span{23, 3, 0.5}),
		days:  daysFlat, brandProb: 0.6,
		names:  []string{"{A} Burger Co.", "{P}'s Fried Chicken", "Taco {P}", "{J} Kebab", "{J} Dumpling", "{N} Burgers"},
		lines:  []string{"Cheat day", "Late night cravings", "Burger time", "Quick lunch", "Fries before guys", "No regrets"},
		emojis: []string{"🍔", "🍟", "🌮", "🤤"},
		tags:   []string{"burger", "fries", "cheatday", "fastfood", "lunch"}},
	catBar: {key: "amenity=bar", group: "nightlife", weight: 7, minR: 50, maxR: 90,
		hours:  hours(0.01, span{16, 18, 0.4}, span{18, 21, 0.9}, span{21, 1, 1}, span{1, 3, 0.5}),
		days:   daysNightlife,
		names:  []string{"The {J} {N} Bar", "{N} Bar", "Bar {P}", "The {N} Room", "{J} Lounge", "{A} Social"},
		lines:  []string{"Cocktail hour", "Friday feeling", "Cheers to the weekend", "One more round", "Negroni season", "Good drinks, better company"},
		emojis: []string{"🍸", "🍹", "🥂", "🍻"},
		tags:   []string{"cocktails", "drinks", "happyhour", "bar", "cheers"}},
	catPub: {key: "amenity=pub", group: "nightlife", weight: 5, minR: 50, maxR: 90,
		hours: hours(0.01, span{12, 16, 0.4}, span{16, 18, 0.7}, span{18, 23, 1}, span{23, 1, 0.4}),
		days:  daysNightlife,
		names: []string{"The Crown", "The Red Lion", "The Royal Oak", "The White Hart", "The King's Arms", "The Rose & Crown",
			"The Swan", "The George", "The Plough", "The Black Horse", "The Bell", "The Anchor", "The Prince of Wales",
			"The Coach & Horses", "The Queen's Head"},
		lines:  []string{"Pint o'clock", "Sunday roast done properly", "Quiz night", "Beer garden weather", "Just the one", "Proper pub"},
		emojis: []string{"🍺", "🍻", "😄"},
		tags:   []string{"pub", "pint", "beer", "sundayroast"}},
	catNightclub: {key: "amenity=nightclub", group: "nightlife", weight: 2, minR: 50, maxR: 120,
		hours:  hours(0, span{22, 0, 0.6}, span{0, 4, 1}, span{4, 6, 0.3}),
		days:   daysNightlife,
		names:  []string{"Club {N}", "{N} Club", "The Vault", "Warehouse {A}", "{J} Room", "Fabrik {P}"},
		lines:  []string{"Dance floor therapy", "What a night", "Lost in the music", "Until the sun comes up", "Best set of the year"},
		emojis: []string{"🪩", "🎧", "🔥", "🌙"},
		tags:   []string{"nightlife", "party", "techno", "clubbing", "dj"}},
	catHotel: {key: "tourism=hotel", group: "hotels", weight: 7, minR: 60, maxR: 150,
		hours: hours(0.15, span{7, 10, 0.7}, span{10, 17, 0.5}, span{17, 23, 0.8}),
		days:  daysWeekend, brandProb: 0.6,
		names:  []string{"Hotel {P}", "The {A} Hotel", "The {J} {N} Hotel", "Grand Hotel {C}", "{A} House", "Hotel {J} {N}"},
		lines:  []string{"Room with a view", "Staycation mode", "Home for the week", "Breakfast in bed", "Checked in", "Rooftop pool vibes"},
		emojis: []string{"🏨", "🛎️", "✨", "🛁"},
		tags:   []string{"hotel", "staycation", "travel", "hotellife", "roomwithaview"}},
	catFitness: {key: "leisure=fitness_centre", group: "fitness", weight: 5, minR: 50, maxR: 100,
		hours: hours(0.01, span{6, 9, 1}, span{9, 12, 0.4}, span{12, 14, 0.6}, span{14, 17, 0.3}, span{17, 21, 1}, span{21, 22, 0.3}),
		days:  daysGym, brandProb: 0.4,
		names:  []string{"{A} Fitness", "Iron {N} Gym", "{J} Strength Club", "CrossFit {A}", "{N} Athletic Club", "Body Lab {A}"},
		lines:  []string{"Leg day done", "No excuses", "5am club", "New PR today", "Sweat now, shine later", "Gym, sleep, repeat"},
		emojis: []string{"💪", "🏋️", "🔥", "😤"},
		tags:   []string{"gym", "fitness", "workout", "legday", "fitfam", "gains"}},
	catSportsCentre: {key: "leisure=sports_centre", group: "sports", weight: 1, minR: 80, maxR: 200,
		hours:  hours(0.01, span{6, 9, 0.8}, span{9, 17, 0.5}, span{17, 21, 1}),
		days:   daysFlat,
		names:  []string{"{A} Leisure Centre", "{A} Sports Centre", "{C} Aquatics Centre", "{A} Tennis Club"},
		lines:  []string{"Morning laps", "Training session done", "Game night with the team", "Yoga to start the week"},
		emojis: []string{"🏊", "🎾", "🏀", "🧘"},
		tags:   []string{"swimming", "training", "sport", "yoga"}},
	catStadium: {key: "leisure=stadium", group: "sports", weight: 1, polygon: true, minR: 110, maxR: 170, maxPerCity: 2,
		hours:  hours(0, span{12, 14, 0.3}, span{14, 18, 1}, span{18, 22, 0.9}),
		days:   daysStadium,
		names:  []string{"{A} Stadium", "{C} Arena", "{C} Olympic Stadium", "{A} Park Stadium", "{C} Stadium"},
		lines:  []string{"Matchday!", "What a game", "Unreal atmosphere tonight", "Concert of my life", "We go again", "Derby day"},
		emojis: []string{"⚽", "🏟️", "🔥", "🎶", "🙌"},
		tags:   []string{"matchday", "football", "gameday", "stadium", "concert"}},
	catPark: {key: "leisure=park", group: "outdoors", weight: 5, polygon: true, minR: 150, maxR: 600,
		hours:  hours(0.01, span{7, 10, 0.5}, span{10, 13, 0.8}, span{13, 19, 1}, span{19, 21, 0.5}),
		days:   daysWeekend,
		names:  []string{"{A} Park", "{P} Gardens", "{A} Common", "{N} Fields", "Victoria Park", "{A} Botanic Garden", "Riverside Park"},
		lines:  []string{"Picnic season", "Sunday stroll", "Golden hour in the park", "Touching grass", "Morning run done", "Spring is here"},
		emojis: []string{"🌳", "🌸", "☀️", "🌿"},
		tags:   []string{"park", "nature", "picnic", "sunday", "outdoors", "sunset"}},
	catBeach: {key: "natural=beach", group: "outdoors", weight: 3, polygon: true, minR: 250, maxR: 500,
		hours:  hours(0.01, span{6, 8, 0.3}, span{8, 10, 0.5}, span{10, 18, 1}, span{18, 20, 0.7}),
		days:   daysWeekend,
		lines:  []string{"Beach day", "Salt in the air, sand in my hair", "Vitamin sea", "Sunset swim", "Best office view", "Waves all day"},
		emojis: []string{"🏖️", "🌊", "☀️", "🐚"},
		tags:   []string{"beach", "sea", "summer", "sun", "beachday", "waves"}},
	catBeachResort: {key: "leisure=beach_resort", group: "outdoors", weight: 1.5, minR: 60, maxR: 150,
		hours:  hours(0.01, span{10, 17, 0.8}, span{17, 22, 1}),
		days:   daysWeekend,
		names:  []string{"{N} Beach Club", "{J} {N} Beach Club", "Club {P} Beach"},
		lines:  []string{"Sunbed secured", "Poolside all afternoon", "Beach club season", "Sunset sessions"},
		emojis: []string{"🏝️", "🍹", "🌅"},
		tags:   []string{"beachclub", "summer", "poolside", "sunset"}},
	catMuseum: {key: "tourism=museum", group: "culture", weight: 3, minR: 80, maxR: 200,
		hours:  hours(0, span{9, 10, 0.4}, span{10, 17, 1}, span{17, 19, 0.4}),
		days:   daysWeekend,
		names:  []string{"{C} Museum of {T}", "Museum of {T}", "National Museum of {T}", "{A} Gallery", "{C} History Museum"},
		lines:  []string{"Art day", "Lost in this exhibition", "Culture fix", "Rainy day plans", "Could spend hours here"},
		emojis: []string{"🖼️", "🏛️", "🎨"},
		tags:   []string{"museum", "art", "exhibition", "culture", "history"}},
	catAttraction: {key: "tourism=attraction", group: "sightseeing", weight: 2, minR: 80, maxR: 250,
		hours:  hours(0.02, span{9, 10, 0.5}, span{10, 18, 1}, span{18, 21, 0.6}),
		days:   daysWeekend,
		names:  []string{"{A} Market", "{C} Tower", "{A} Bridge", "Old {A} Square", "{C} Eye"},
		lines:  []string{"Tourist for a day", "Had to see it once", "Bucket list", "Worth the queue", "Classic"},
		emojis: []string{"📸", "🗺️", "✨"},
		tags:   []string{"sightseeing", "travel", "landmark", "tourist"}},
	catViewpoint: {key: "tourism=viewpoint", group: "sightseeing", weight: 1, minR: 50, maxR: 120,
		hours:  hours(0.01, span{6, 9, 0.3}, span{9, 17, 0.7}, span{17, 21, 1}),
		days:   daysWeekend,
		names:  []string{"{A} Lookout", "{N} Hill Viewpoint", "{A} Heights", "{C} Skydeck"},
		lines:  []string{"That view though", "Sunset from up here", "Skyline never gets old", "Worth the climb"},
		emojis: []string{"🌇", "🌅", "😍"},
		tags:   []string{"view", "sunset", "skyline", "cityscape", "goldenhour"}},
	catZoo: {key: "tourism=zoo", group: "family", weight: 0.6, polygon: true, minR: 200, maxR: 400, maxPerCity: 1,
		hours:  hours(0, span{9, 10, 0.5}, span{10, 17, 1}, span{17, 18, 0.3}),
		days:   daysWeekend,
		names:  []string{"{C} Zoo"},
		lines:  []string{"Family day out", "The kids loved it", "Said hi to the giraffes", "Penguin feeding time"},
		emojis: []string{"🦒", "🐧", "🦁", "🐘"},
		tags:   []string{"zoo", "animals", "familyday", "kids"}},
	catPlayground: {key: "leisure=playground", group: "family", weight: 1, minR: 50, maxR: 90,
		hours:  hours(0, span{8, 11, 0.6}, span{11, 13, 0.5}, span{14, 18, 1}),
		days:   daysWeekend,
		names:  []string{"{A} Playground", "{P}'s Adventure Playground", "{N} Play Park"},
		lines:  []string{"Swings and slides", "Burning off energy", "Park life with the little ones", "Weekend with the kids"},
		emojis: []string{"🛝", "👶", "☀️"},
		tags:   []string{"kids", "familytime", "playtime", "weekend"}},
	catDogPark: {key: "leisure=dog_park", group: "pets", weight: 0.8, minR: 50, maxR: 120,
		hours:  hours(0, span{6, 9, 1}, span{9, 16, 0.4}, span{16, 20, 0.9}),
		days:   daysFlat,
		names:  []string{"{A} Dog Park", "{A} Dog Run", "{P}'s Paw Park"},
		lines:  []string{"Zoomies", "Best boy", "Made new friends today", "Walkies", "Happy pup"},
		emojis: []string{"🐶", "🐕", "🦴"},
		tags:   []string{"dogsofinstagram", "doglife", "puppy", "dogpark"}},
	catClothes: {key: "shop=clothes", group: "fashion", weight: 6, minR: 50, maxR: 90,
		hours: hours(0, span{9, 10, 0.3}, span{10, 19, 1}, span{19, 21, 0.5}),
		days:  daysShopping, brandProb: 0.6,
		names:  []string{"{P} Boutique", "{A} Vintage", "Atelier {P}", "{J} Thread", "{N} & {N}"},
		lines:  []string{"New in", "Outfit of the day", "Retail therapy", "Couldn't resist", "Fitting room selfie", "Wishlist"},
		emojis: []string{"🛍️", "👗", "👟", "✨"},
		tags:   []string{"ootd", "fashion", "shopping", "style", "newin"}},
	catSportsShop: {key: "shop=sports", group: "fashion", weight: 2, minR: 50, maxR: 100,
		hours: hours(0, span{9, 10, 0.3}, span{10, 19, 1}, span{19, 21, 0.5}),
		days:  daysShopping, brandProb: 0.7,
		names:  []string{"{A} Sports", "Run {A}", "{J} Runner"},
		lines:  []string{"New kicks", "Fresh pair for race day", "Sneaker drop", "Gear up"},
		emojis: []string{"👟", "🏃", "🔥"},
		tags:   []string{"sneakers", "running", "newshoes", "shopping"}},
	catSupermarket: {key: "shop=supermarket", group: "groceries", weight: 4, minR: 50, maxR: 120,
		hours: hours(0.02, span{7, 9, 0.4}, span{9, 17, 0.7}, span{17, 21, 1}, span{21, 23, 0.3}),
		days:  daysShopping, brandProb: 0.7,
		names:  []string{"{P}'s Grocery", "Fresh {A}", "{A} Food Hall", "{J} Pantry"},
		lines:  []string{"Meal prep haul", "Weekly shop", "Found my favourite snacks", "Healthy week ahead"},
		emojis: []string{"🛒", "🥑", "🍓"},
		tags:   []string{"groceries", "healthyfood", "mealprep", "vegan"}},
	catElectronics: {key: "shop=electronics", group: "tech", weight: 2, minR: 50, maxR: 100,
		hours: hours(0, span{9, 10, 0.3}, span{10, 19, 1}, span{19, 21, 0.5}),
		days:  daysShopping, brandProb: 0.7,
		names:  []string{"{A} Electronics", "Tech{N}", "{J} Gadgets"},
		lines:  []string{"Upgrade day", "New phone who dis", "Unboxing soon", "Desk setup upgrade", "Launch day queue"},
		emojis: []string{"📱", "💻", "🎧"},
		tags:   []string{"tech", "gadgets", "newphone", "setup", "unboxing"}},
	catFurniture: {key: "shop=furniture", group: "home", weight: 0.7, minR: 100, maxR: 250,
		hours: hours(0, span{10, 20, 1}),
		days:  daysShopping, brandProb: 0.85,
		names:  []string{"{P} Home", "{A} Interiors"},
		lines:  []string{"New flat, new furniture", "Meatballs and flat-pack", "Home makeover begins", "Decor inspo"},
		emojis: []string{"🛋️", "🏠", "🪴"},
		tags:   []string{"homedecor", "interiordesign", "newhome"}},
	catCarShop: {key: "shop=car", group: "cars", weight: 1, minR: 80, maxR: 200,
		hours: hours(0, span{9, 19, 1}),
		days:  daysShopping, brandProb: 0.8,
		names:  []string{"{A} Motors", "{C} Auto", "{J} Motor Company"},
		lines:  []string{"Test drive day", "Dream car spotted", "Picking up the new ride", "Just looking. Honestly."},
		emojis: []string{"🏎️", "🚗", "⚡"},
		tags:   []string{"cars", "carspotting", "supercar", "newcar", "testdrive"}},
	catBicycleShop: {key: "shop=bicycle", group: "cycling", weight: 1, minR: 50, maxR: 90,
		hours:  hours(0, span{8, 10, 0.6}, span{10, 19, 1}),
		days:   daysWeekend,
		names:  []string{"{A} Cycles", "Spoke & {N}", "{J} Wheel Bikes", "{P}'s Bike Shop"},
		lines:  []string{"New bike day", "Service done, ready to ride", "Coffee ride start point", "Sunday spin"},
		emojis: []string{"🚴", "🚲", "☀️"},
		tags:   []string{"cycling", "bikelife", "roadbike", "newbike"}},
	catPetShop: {key: "shop=pet", group: "pets", weight: 1, minR: 50, maxR: 90,
		hours: hours(0, span{9, 19, 1}),
		days:  daysShopping, brandProb: 0.5,
		names:  []string{"{A} Pet Supplies", "Paws & {N}", "{J} Pet Co."},
		lines:  []string{"Treat shopping", "Spoiling this one", "New toy day", "Someone is excited"},
		emojis: []string{"🐾", "🐱", "🐶"},
		tags:   []string{"pets", "dogsofinstagram", "catsofinstagram"}},
	catIceCream: {key: "amenity=ice_cream", group: "food", weight: 1.5, minR: 50, maxR: 70,
		hours: hours(0, span{11, 14, 0.6}, span{14, 21, 1}, span{21, 23, 0.4}),
		days:  daysWeekend, brandProb: 0.2,
		names:  []string{"Gelato {P}", "{J} Scoop", "{N} Ice Cream"},
		lines:  []string{"Two scoops please", "Gelato weather", "Dessert first", "Summer in a cone"},
		emojis: []string{"🍦", "🍨", "😋"},
		tags:   []string{"icecream", "gelato", "dessert", "summer"}},
	catCinema: {key: "amenity=cinema", group: "entertainment", weight: 1.5, minR: 60, maxR: 120,
		hours: hours(0, span{12, 17, 0.4}, span{17, 23, 1}),
		days:  daysWeekend, brandProb: 0.4,
		names:  []string{"{A} Picturehouse", "Cinema {P}", "The {J} Screen"},
		lines:  []string{"Movie night", "No spoilers", "Popcorn secured", "That ending though"},
		emojis: []string{"🍿", "🎬", "🎥"},
		tags:   []string{"movienight", "cinema", "film", "popcorn"}},
	catMall: {key: "shop=mall", group: "shopping", weight: 1.5, minR: 150, maxR: 300,
		hours:  hours(0, span{10, 13, 0.7}, span{13, 20, 1}, span{20, 22, 0.4}),
		days:   daysShopping,
		names:  []string{"{A} Shopping Centre", "{C} Mall", "{A} Galleria", "{A} Plaza"},
		lines:  []string{"Shopping spree", "Haul incoming", "Window shopping turned real shopping", "Weekend errands"},
		emojis: []string{"🛍️", "💳", "😅"},
		tags:   []string{"shopping", "mall", "weekend", "haul"}},
	catCoworking: {key: "amenity=coworking_space", group: "tech", weight: 1, minR: 50, maxR: 90,
		hours: hours(0, span{8, 10, 0.8}, span{10, 18, 1}, span{18, 20, 0.4}),
		days:  daysWork, brandProb: 0.5,
		names:  []string{"{A} Works", "The {N} Hub", "{J} Desk"},
		lines:  []string{"Office for the day", "Deep work mode", "Shipping it", "Demo day prep"},
		emojis: []string{"💻", "🚀", "☕"},
		tags:   []string{"workfromanywhere", "startup", "coworking", "productivity"}},
}

// essentials are placed first in every city, so that even a city with a
// handful of venues offers the places most people post from.
var essentials = []int{catCafe, catRestaurant, catPark, catBar, catHotel, catFitness, catFastFood, catClothes}

// Word lists for invented venue names.
var (
	nameAdjectives = []string{"Blue", "Golden", "Little", "Wild", "Copper", "Velvet", "Silver", "Black", "Green", "Red",
		"Old", "Lucky", "Hidden", "Secret", "Happy", "Urban", "Rusty", "Salty", "Sunny", "Northern"}
	nameNouns = []string{"Fox", "Sparrow", "Kettle", "Lantern", "Anchor", "Owl", "Hare", "Bear", "Oak", "Harbour",
		"Cup", "Press", "Bean", "Vine", "Table", "Door", "Garden", "Bell", "Crow", "Moon"}
	namePeople = []string{"Luna", "Milo", "Olive", "Nina", "Rosa", "Bruno", "Marco", "Sofia", "Lola", "Hugo",
		"Elsa", "Felix", "Iris", "Leo", "Mia", "Otto", "Vera", "Nico", "Ada", "Theo"}
	nameTopics = []string{"Modern Art", "Natural History", "Science", "Design", "Photography", "Contemporary Art",
		"Technology", "Maritime History", "Fashion", "Cinema"}
	nameSuffixes = []string{"Station", "Market", "Square", "Central", "North", "South", "East", "West", "Plaza", "High Street"}
)

// brand is a well-known chain. countries lists where it trades; nil means
// everywhere in the world.
type brand struct {
	name, handle string
	cat          int
	weight       float64
	countries    []string
}

var (
	europe = []string{"United Kingdom", "Ireland", "France", "Germany", "Spain", "Italy", "Netherlands", "Portugal",
		"Austria", "Czechia", "Sweden", "Denmark", "Greece"}
	mostMarkets = append([]string{"United States", "Canada", "Australia", "United Arab Emirates", "Singapore",
		"Hong Kong", "Japan", "South Korea", "Turkey", "Mexico", "Brazil", "Israel"}, europe...)
)

var brandTable = []brand{
	{"Starbucks", "starbucks", catCafe, 3, nil},
	{"Costa Coffee", "costacoffee", catCafe, 2, []string{"United Kingdom", "Ireland", "United Arab Emirates", "Turkey"}},
	{"Caffè Nero", "caffenero", catCafe, 1, []string{"United Kingdom", "Ireland", "Turkey"}},
	{"Tim Hortons", "timhortons", catCafe, 2, []string{"Canada", "United States", "United Arab Emirates"}},
	{"Blue Bottle Coffee", "bluebottlecoffee", catCafe, 1, []string{"United States", "Japan", "South Korea"}},

	{"McDonald's", "mcdonalds", catFastFood, 4, nil},
	{"Burger King", "burgerking", catFastFood, 2, nil},
	{"KFC", "kfc", catFastFood, 2, nil},
	{"Subway", "subway", catFastFood, 1.5, nil},
	{"Five Guys", "fiveguys", catFastFood, 1, mostMarkets},
	{"Shake Shack", "shakeshack", catFastFood, 0.7, []string{"United States", "United Kingdom", "Japan", "South Korea",
		"United Arab Emirates", "Singapore", "Hong Kong", "Turkey", "Mexico"}},

	{"Nando's", "nandos", catRestaurant, 1, []string{"United Kingdom", "Ireland", "Australia", "South Africa", "Canada", "United States"}},
	{"Wagamama", "wagamama", catRestaurant, 1, []string{"United Kingdom", "Ireland", "Netherlands"}},

	{"Hilton", "hilton", catHotel, 3, nil},
	{"Marriott", "marriott", catHotel, 3, nil},
	{"Hyatt", "hyatt", catHotel, 1.5, nil},
	{"Holiday Inn", "holidayinn", catHotel, 2, nil},
	{"ibis", "ibis", catHotel, 2, append([]string{"Australia", "Singapore", "Brazil", "Mexico", "Thailand", "United Arab Emirates",
		"Turkey", "Egypt", "Nigeria", "Kenya", "Argentina", "India", "China", "South Korea", "Japan"}, europe...)},
	{"Four Seasons", "fourseasons", catHotel, 0.7, nil},
	{"Radisson Blu", "radissonblu", catHotel, 1, append([]string{"United Arab Emirates", "Turkey", "Egypt", "Nigeria",
		"Kenya", "South Africa", "India", "China"}, europe...)},

	{"Anytime Fitness", "anytimefitness", catFitness, 2, nil},
	{"PureGym", "puregym", catFitness, 2, []string{"United Kingdom", "Denmark"}},
	{"Gold's Gym", "goldsgym", catFitness, 1, []string{"United States", "Germany", "Japan", "Egypt", "India"}},
	{"Equinox", "equinox", catFitness, 1, []string{"United States", "United Kingdom", "Canada"}},
	{"McFIT", "mcfit", catFitness, 2, []string{"Germany", "Austria", "Spain", "Italy"}},
	{"Virgin Active", "virginactive", catFitness, 1, []string{"United Kingdom", "Italy", "South Africa", "Australia", "Singapore"}},

	{"Nike", "nike", catSportsShop, 3, nil},
	{"Adidas", "adidas", catSportsShop, 2, nil},
	{"Decathlon", "decathlon", catSportsShop, 2, append([]string{"Singapore", "India", "Brazil", "Mexico", "Hong Kong",
		"Turkey", "China", "South Korea", "Thailand"}, europe...)},

	{"Zara", "zara", catClothes, 3, nil},
	{"H&M", "hm", catClothes, 3, nil},
	{"Uniqlo", "uniqlo", catClothes, 2, nil},
	{"Primark", "primark", catClothes, 2, []string{"United Kingdom", "Ireland", "Spain", "Germany", "France", "Netherlands",
		"Portugal", "Italy", "Austria", "United States", "Czechia"}},
	{"Mango", "mango", catClothes, 1, nil},
	{"Levi's", "levis", catClothes, 1, nil},

	{"Lidl", "lidl", catSupermarket, 3, []string{"United Kingdom", "Ireland", "Germany", "France", "Spain", "Italy",
		"Netherlands", "Portugal", "Austria", "Czechia", "Sweden", "Denmark", "Greece", "United States"}},
	{"Aldi", "aldi", catSupermarket, 2, []string{"Germany", "United Kingdom", "Ireland", "Australia", "United States",
		"Spain", "Italy", "France", "Netherlands", "Portugal"}},
	{"Tesco", "tesco", catSupermarket, 3, []string{"United Kingdom", "Ireland", "Czechia"}},
	{"Sainsbury's", "sainsburys", catSupermarket, 2, []string{"United Kingdom"}},
	{"Carrefour", "carrefour", catSupermarket, 3, []string{"France", "Spain", "Italy", "Brazil", "Argentina",
		"United Arab Emirates", "Egypt", "Kenya"}},
	{"Whole Foods Market", "wholefoods", catSupermarket, 2, []string{"United States", "Canada", "United Kingdom"}},
	{"Walmart", "walmart", catSupermarket, 2, []string{"United States", "Mexico", "Canada"}},
	{"Woolworths", "woolworths", catSupermarket, 3, []string{"Australia", "South Africa"}},
	{"Rewe", "rewe", catSupermarket, 2, []string{"Germany"}},
	{"Mercadona", "mercadona", catSupermarket, 3, []string{"Spain"}},
	{"Albert Heijn", "albertheijn", catSupermarket, 3, []string{"Netherlands"}},
	{"Billa", "billa", catSupermarket, 2, []string{"Austria", "Czechia"}},
	{"Aeon", "aeon", catSupermarket, 2, []string{"Japan"}},
	{"E-Mart", "emart", catSupermarket, 2, []string{"South Korea"}},

	{"Apple", "apple", catElectronics, 3, nil},
	{"Samsung", "samsung", catElectronics, 2, nil},
	{"MediaMarkt", "mediamarkt", catElectronics, 2, []string{"Germany", "Spain", "Italy", "Netherlands", "Austria",
		"Turkey", "Portugal", "Sweden"}},
	{"Best Buy", "bestbuy", catElectronics, 2, []string{"United States", "Canada"}},
	{"Bic Camera", "biccamera", catElectronics, 2, []string{"Japan"}},

	{"IKEA", "ikea", catFurniture, 1, nil},

	{"Tesla", "tesla", catCarShop, 2, nil},
	{"BMW", "bmw", catCarShop, 2, nil},
	{"Mercedes-Benz", "mercedesbenz", catCarShop, 2, nil},
	{"Porsche", "porsche", catCarShop, 1, nil},
	{"Toyota", "toyota", catCarShop, 2, nil},

	{"Pets at Home", "petsathome", catPetShop, 2, []string{"United Kingdom"}},
	{"Petco", "petco", catPetShop, 2, []string{"United States", "Mexico"}},
	{"PetSmart", "petsmart", catPetShop, 2, []string{"United States", "Canada"}},
	{"Fressnapf", "fressnapf", catPetShop, 2, []string{"Germany", "Austria"}},

	{"Odeon", "odeon", catCinema, 2, []string{"United Kingdom", "Ireland"}},
	{"Cineworld", "cineworld", catCinema, 2, []string{"United Kingdom", "Ireland"}},
	{"AMC", "amctheatres", catCinema, 2, []string{"United States"}},
	{"Cinépolis", "cinepolis", catCinema, 2, []string{"Mexico", "Brazil", "Spain"}},
	{"Pathé", "pathe", catCinema, 2, []string{"France", "Netherlands"}},

	{"Amorino", "amorino", catIceCream, 1, europe},
	{"Ben & Jerry's", "benandjerrys", catIceCream, 1, nil},

	{"WeWork", "wework", catCoworking, 1, nil},
}

// Interest indices into interestTable.
const (
	intFood = iota
	intCoffee
	intFitness
	intOutdoors
	intTravel
	intPets
	intCars
	intCycling
	intFashion
	intNightlife
	intSports
	intTech
	intFamily
	numInterests
)

// catWeight is how strongly an interest draws a person to a category.
type catWeight struct {
	cat int
	w   float64
}

// interest shapes which venues a person visits and how they write.
type interest struct {
	name string
	// share is how common the interest is among authors.
	share float64
	cats  []catWeight
	tags  []string
	bio   []string
	// handleWords end handles ("anna_eats") and start creator accounts ("londonfoodie").
	handleWords []string
	creator     []creatorName
}

// creatorName is the tail of a creator account: handle word and display words.
type creatorName struct{ handle, display string }

var interestTable = [numInterests]interest{
	intFood: {"food", 0.20,
		[]catWeight{{catRestaurant, 3}, {catFastFood, 1.5}, {catIceCream, 0.7}, {catCafe, 0.5}, {catSupermarket, 0.3}},
		[]string{"foodie", "instafood", "foodporn", "eeeeeats", "foodstagram"},
		[]string{"Eating my way through the city 🍜", "Will travel for tacos 🌮", "Foodie 🍕", "Brunch enthusiast 🥞"},
		[]string{"eats", "foodie", "bites", "kitchen"}, []creatorName{{"foodie", "Foodie"}, {"eats", "Eats"}, {"foodguide", "Food Guide"}, {"bites", "Bites"}}},
	intCoffee: {"coffee", 0.15,
		[]catWeight{{catCafe, 4}, {catBar, 0.5}, {catRestaurant, 0.3}},
		[]string{"coffee", "coffeelover", "coffeeaddict", "butfirstcoffee"},
		[]string{"Powered by flat whites ☕", "Coffee first ☕", "Professional latte drinker ☕"},
		[]string{"coffee", "latte", "brews", "beans"}, []creatorName{{"coffee", "Coffee"}, {"coffeeguide", "Coffee Guide"}, {"cafes", "Cafés"}}},
	intFitness: {"fitness", 0.10,
		[]catWeight{{catFitness, 4}, {catPark, 1.5}, {catSportsCentre, 1}, {catSportsShop, 0.5}},
		[]string{"fitness", "fitfam", "gymlife", "healthylifestyle", "motivation"},
		[]string{"Gym, sleep, repeat 🏋️", "Marathon in training 🏃", "Personal trainer 💪", "Strong is the new skinny"},
		[]string{"lifts", "fit", "runs", "trains"}, []creatorName{{"fitness", "Fitness"}, {"fitclub", "Fit Club"}, {"runclub", "Run Club"}}},
	intOutdoors: {"outdoors", 0.10,
		[]catWeight{{catPark, 3}, {catBeach, 3}, {catBeachResort, 1}, {catViewpoint, 1}},
		[]string{"outdoors", "naturelovers", "sunsetlovers", "getoutside"},
		[]string{"Chasing sunsets 🌅", "Happiest outdoors 🌿", "Salt water cures everything 🌊"},
		[]string{"outdoors", "sunsets", "wild", "waves"}, []creatorName{{"outdoors", "Outdoors"}, {"parks", "Parks"}, {"beaches", "Beaches"}}},
	intTravel: {"travel", 0.10,
		[]catWeight{{catHotel, 3}, {catMuseum, 2}, {catAttraction, 2}, {catViewpoint, 1}},
		[]string{"travel", "wanderlust", "travelgram", "instatravel", "explore"},
		[]string{"Passport always ready ✈️", "32 countries and counting 🌍", "Travel writer ✍️", "Collecting stamps"},
		[]string{"travels", "abroad", "wanders", "explores"}, []creatorName{{"travel", "Travel"}, {"guide", "Guide"}, {"insider", "Insider"}}},
	intPets: {"pets", 0.05,
		[]catWeight{{catDogPark, 2}, {catPark, 2}, {catPetShop, 1.5}},
		[]string{"dogsofinstagram", "doglife", "catsofinstagram", "petlovers"},
		[]string{"Dog mum 🐶", "Human to two cats 🐱", "My dog is the famous one 🐾"},
		[]string{"andthedog", "pup", "paws"}, []creatorName{{"dogs", "Dogs"}, {"pets", "Pets"}}},
	intCars: {"cars", 0.03,
		[]catWeight{{catCarShop, 3}, {catStadium, 0.3}},
		[]string{"cars", "carspotting", "carsofinstagram", "supercars"},
		[]string{"Petrolhead 🏎️", "Cars and coffee every Sunday 🚗", "EV convert ⚡"},
		[]string{"drives", "cars", "motors"}, []creatorName{{"cars", "Cars"}, {"carspotting", "Car Spotting"}, {"supercars", "Supercars"}}},
	intCycling: {"cycling", 0.03,
		[]catWeight{{catBicycleShop, 2}, {catPark, 2}, {catCafe, 1}},
		[]string{"cycling", "bikelife", "cyclinglife", "ridelocal"},
		[]string{"Two wheels good 🚴", "Coffee ride captain ☕🚴", "Commuting by bike since forever"},
		[]string{"rides", "cycles", "bikes"}, []creatorName{{"cycling", "Cycling"}, {"bikes", "Bikes"}, {"rides", "Rides"}}},
	intFashion: {"fashion", 0.08,
		[]catWeight{{catClothes, 4}, {catSportsShop, 1}, {catMall, 2}},
		[]string{"fashion", "ootd", "style", "streetstyle", "outfitinspo"},
		[]string{"Style diaries 👗", "Sneakerhead 👟", "Vintage hunter 🧥", "Stylist | Creative"},
		[]string{"style", "wears", "looks", "closet"}, []creatorName{{"style", "Style"}, {"streetstyle", "Street Style"}, {"fashion", "Fashion"}}},
	intNightlife: {"nightlife", 0.08,
		[]catWeight{{catBar, 3}, {catPub, 2}, {catNightclub, 3}},
		[]string{"nightlife", "nightout", "weekendvibes", "partytime"},
		[]string{"Night owl 🌙", "DJ | Techno 🎧", "Here for a good time 🍸"},
		[]string{"nights", "afterdark", "parties"}, []creatorName{{"nights", "Nights"}, {"nightlife", "Nightlife"}, {"afterdark", "After Dark"}}},
	intSports: {"sports", 0.06,
		[]catWeight{{catStadium, 3}, {catSportsCentre, 1}, {catBar, 0.7}, {catPub, 0.7}},
		[]string{"football", "sports", "matchday", "fans"},
		[]string{"Season ticket holder ⚽", "Matchday every day 🏟️", "Lifelong fan"},
		[]string{"fc", "fan", "sports"}, []creatorName{{"sports", "Sports"}, {"matchday", "Matchday"}, {"fans", "Fans"}}},
	intTech: {"tech", 0.05,
		[]catWeight{{catElectronics, 3}, {catCoworking, 2}, {catCafe, 1}},
		[]string{"tech", "developer", "gadgets", "startup"},
		[]string{"Building things 💻", "Software engineer", "Founder @ a startup 🚀", "Gadget reviewer"},
		[]string{"codes", "dev", "tech", "builds"}, []creatorName{{"tech", "Tech"}, {"gadgets", "Gadgets"}, {"startups", "Startups"}}},
	intFamily: {"family", 0.05,
		[]catWeight{{catPlayground, 2}, {catZoo, 2}, {catIceCream, 1.5}, {catPark, 1.5}, {catSupermarket, 1}, {catMuseum, 1},
			{catFurniture, 1}, {catMall, 1}, {catCinema, 1}},
		[]string{"familytime", "kids", "momlife", "dadlife"},
		[]string{"Mum of two 👨‍👩‍👧", "Dad jokes enthusiast", "Family first ❤️", "Raising little explorers"},
		[]string{"family", "andkids", "mama", "papa"}, []creatorName{{"family", "Family"}, {"kids", "Kids"}, {"familyguide", "Family Guide"}}},
}

// baseCats are what everyone visits now and then, whatever their interests.
var baseCats = []catWeight{
	{catCafe, 0.5}, {catRestaurant, 0.7}, {catFastFood, 0.3}, {catSupermarket, 0.2}, {catPark, 0.4},
	{catBar, 0.3}, {catMall, 0.2}, {catAttraction, 0.1}, {catCinema, 0.15}, {catHotel, 0.05},
}

// routine is a person's weekly rhythm in local time.
type routine struct {
	name             string
	weekday, weekend [24]float32
	days             [7]float32
	// pull biases which interests lead to it (added to a base weight).
	pull [numInterests]float64
	base float64
}

var routineTable = []routine{
	{name: "early_bird",
		weekday: hours(0.02, span{6, 7, 0.5}, span{7, 10, 1}, span{10, 13, 0.6}, span{13, 18, 0.4}, span{18, 21, 0.2}),
		weekend: hours(0.02, span{7, 9, 0.6}, span{9, 12, 1}, span{12, 18, 0.5}, span{18, 21, 0.2}),
		days:    daysFlat, base: 1, pull: [numInterests]float64{intCoffee: 2, intCycling: 1, intPets: 1}},
	{name: "nine_to_five",
		weekday: hours(0.02, span{7, 9, 0.3}, span{12, 14, 0.9}, span{17, 19, 0.8}, span{19, 22, 1}, span{22, 0, 0.2}),
		weekend: hours(0.02, span{9, 11, 0.4}, span{11, 19, 1}, span{19, 23, 0.8}),
		days:    daysFlat, base: 1.5, pull: [numInterests]float64{intFood: 1, intTech: 1}},
	{name: "gym_goer",
		weekday: hours(0.02, span{6, 9, 1}, span{12, 14, 0.5}, span{17, 21, 1}, span{21, 22, 0.3}),
		weekend: hours(0.02, span{8, 12, 1}, span{12, 18, 0.6}, span{18, 21, 0.4}),
		days:    daysGym, base: 0.5, pull: [numInterests]float64{intFitness: 3, intSports: 1}},
	{name: "night_owl",
		weekday: hours(0.05, span{0, 2, 0.6}, span{2, 4, 0.3}, span{11, 16, 0.4}, span{16, 19, 0.6}, span{19, 0, 1}),
		weekend: hours(0.05, span{0, 3, 0.8}, span{3, 5, 0.4}, span{12, 18, 0.6}, span{18, 0, 1}),
		days:    daysNightlife, base: 0.7, pull: [numInterests]float64{intNightlife: 3, intFashion: 0.5}},
	{name: "weekender",
		weekday: hours(0.02, span{7, 9, 0.2}, span{12, 14, 0.3}, span{17, 22, 0.5}),
		weekend: hours(0.02, span{8, 10, 0.5}, span{10, 19, 1}, span{19, 22, 0.6}),
		days:    [7]float32{0.6, 0.6, 0.6, 0.7, 0.9, 2, 1.8}, base: 1,
		pull: [numInterests]float64{intOutdoors: 1.5, intFamily: 2, intSports: 1.5, intCars: 1}},
	{name: "all_day",
		weekday: hours(0.03, span{8, 10, 0.6}, span{10, 22, 1}, span{22, 0, 0.4}),
		weekend: hours(0.03, span{9, 11, 0.6}, span{11, 23, 1}, span{23, 1, 0.5}),
		days:    daysFlat, base: 1, pull: [numInterests]float64{intTravel: 2, intFood: 1, intFashion: 1}},
}

// Source platforms, their share of authors, and what kinds their posts are.
type sourceInfo struct {
	name  string
	share float64
	kinds []kindWeight
}

type kindWeight struct {
	kind string
	w    float64
}

// Source indices into sourceTable.
const (
	srcInstagram = iota
	srcX
	srcMastodon
	srcFlickr
)

var sourceTable = [...]sourceInfo{
	{"instagram", 0.60, []kindWeight{{"story", 0.5}, {"photo", 0.28}, {"reel", 0.15}, {"video", 0.07}}},
	{"x", 0.15, []kindWeight{{"photo", 0.6}, {"video", 0.25}, {"text", 0.15}}},
	{"mastodon", 0.10, []kindWeight{{"photo", 0.7}, {"video", 0.1}, {"text", 0.2}}},
	{"flickr", 0.15, []kindWeight{{"photo", 0.93}, {"video", 0.07}}},
}

// People's names for handles and display names: a deliberately international mix.
var (
	firstNames = []string{"Anna", "James", "Sofia", "Liam", "Emma", "Noah", "Olivia", "Lucas", "Mia", "Mateo",
		"Chloe", "Ethan", "Yuki", "Hiro", "Amara", "Kwame", "Priya", "Arjun", "Fatima", "Omar",
		"Lea", "Jonas", "Camille", "Hugo", "Giulia", "Marco", "Ines", "Diego", "Sara", "Ali",
		"Chen", "Mei", "Min-jun", "Ji-woo", "Aisha", "Tom", "Grace", "Ben", "Zoe", "Max",
		"Elena", "Pablo", "Nora", "Felix", "Isla", "Leo", "Maya", "Sam", "Lina", "Ravi",
		"Tariq", "Nadia", "Lars", "Freja", "Ana", "Joao", "Valentina", "Santiago", "Chiara", "Daniel"}
	lastNames = []string{"Smith", "Jones", "Garcia", "Müller", "Rossi", "Martin", "Silva", "Kim", "Tanaka", "Nguyen",
		"Patel", "Khan", "Cohen", "Dubois", "Schmidt", "Lopez", "Brown", "Wilson", "Taylor", "Moore",
		"Okafor", "Mensah", "Sato", "Park", "Lee", "Wang", "Chen", "Singh", "Sharma", "Ali",
		"Novak", "Jensen", "Larsen", "Andersson", "Costa", "Pereira", "Fernandez", "Romano", "Bianchi", "Murphy",
		"Kelly", "Walsh", "Evans", "Clarke", "Hughes", "Young", "King", "Wright", "Hall", "Green"}
	handlePrefixes = []string{"its", "the", "hey", "real", "iam", "just"}
)

// streetTheme captions posts made away from any venue.
var streetTheme = category{
	lines: []string{"Out and about", "City walks", "Golden hour", "Sunday mood", "Exploring the neighbourhood",
		"Home sweet home", "Street art hunting", "Rainy day in the city", "Weekend wander", "Love this street"},
	emojis: []string{"🌆", "🚶", "📸", "☀️", "🌧️"},
	tags:   []string{"citylife", "streetphotography", "explore", "weekend", "urban"},
}

// travelOpeners start captions of people posting away from home.
var travelOpeners = []string{"Back in ", "Hello from ", "Weekend in ", "First time in ", "Missing home but loving "}

// textTails end text-only posts, which read more like a status than a caption.
var textTails = []string{"Would recommend.", "10/10 would go again.", "Who else has been?", "Highly recommend!",
	"Not sponsored, just happy.", "Again next week?", "Worth every penny.", "Hidden gem."}
