package simulate

// City is one of the real cities the world is built on.
type City struct {
	Name, Country string
	Lat, Lon      float64
}

// area is a real neighbourhood of a city, at its approximate real centre.
type area struct {
	name     string
	lat, lon float64
}

// cityData is a city as the generator needs it. The first area is the
// centre, where venues cluster most.
type cityData struct {
	name, country string
	lat, lon      float64
	// pop is the rough metro population in millions; the world damps it so
	// that small cities still get a visible share of authors and venues.
	pop float64
	// tzMin is the standard-time UTC offset in minutes. Daylight saving is
	// ignored: an hour of drift in routines does not matter to a simulation,
	// and a fixed offset keeps the hot path free of zone lookups.
	tzMin int
	// pubs is true where "the pub" is the usual bar (amenity=pub).
	pubs    bool
	areas   []area
	beaches []area
}

// cityTable lists the embedded cities, best known first, so that
// Options.Cities = n keeps the n most familiar ones. Coordinates are real
// (city centres and neighbourhood centres, to about 500 m).
var cityTable = [...]cityData{
	{"London", "United Kingdom", 51.5074, -0.1278, 9.5, 0, true, []area{
		{"Soho", 51.5136, -0.1365}, {"Shoreditch", 51.5265, -0.0780}, {"Camden Town", 51.5390, -0.1426},
		{"Brixton", 51.4613, -0.1156}, {"Notting Hill", 51.5110, -0.2000}, {"Canary Wharf", 51.5054, -0.0235},
		{"Greenwich", 51.4826, -0.0077}}, nil},
	{"New York", "United States", 40.7128, -74.0060, 19, -300, false, []area{
		{"Midtown", 40.7549, -73.9840}, {"SoHo", 40.7233, -74.0030}, {"Williamsburg", 40.7081, -73.9571},
		{"Harlem", 40.8116, -73.9465}, {"Upper West Side", 40.7870, -73.9754}, {"Astoria", 40.7644, -73.9235},
		{"Chelsea", 40.7465, -74.0014}}, []area{{"Coney Island Beach", 40.5724, -73.9786}}},
	{"Paris", "France", 48.8566, 2.3522, 11, 60, false, []area{
		{"Le Marais", 48.8590, 2.3620}, {"Montmartre", 48.8867, 2.3431}, {"Saint-Germain-des-Prés", 48.8540, 2.3330},
		{"Bastille", 48.8532, 2.3691}, {"Belleville", 48.8720, 2.3770}, {"Champs-Élysées", 48.8698, 2.3078},
		{"Canal Saint-Martin", 48.8710, 2.3650}}, nil},
	{"Tokyo", "Japan", 35.6895, 139.6917, 37, 540, false, []area{
		{"Shinjuku", 35.6938, 139.7034}, {"Shibuya", 35.6580, 139.7016}, {"Ginza", 35.6717, 139.7650},
		{"Harajuku", 35.6702, 139.7027}, {"Roppongi", 35.6628, 139.7314}, {"Asakusa", 35.7148, 139.7967},
		{"Ikebukuro", 35.7295, 139.7109}, {"Nakameguro", 35.6440, 139.6990}}, nil},
	{"Los Angeles", "United States", 34.0522, -118.2437, 12.5, -480, false, []area{
		{"Downtown", 34.0407, -118.2468}, {"Hollywood", 34.0928, -118.3287}, {"Silver Lake", 34.0869, -118.2702},
		{"West Hollywood", 34.0900, -118.3617}, {"Los Feliz", 34.1063, -118.2848}, {"Koreatown", 34.0618, -118.3004},
		{"Echo Park", 34.0782, -118.2606}}, []area{{"Santa Monica State Beach", 34.0094, -118.4973}}},
	{"Berlin", "Germany", 52.5200, 13.4050, 3.6, 60, false, []area{
		{"Mitte", 52.5250, 13.4010}, {"Kreuzberg", 52.4986, 13.4030}, {"Prenzlauer Berg", 52.5390, 13.4240},
		{"Neukölln", 52.4811, 13.4350}, {"Friedrichshain", 52.5158, 13.4540}, {"Charlottenburg", 52.5160, 13.3041}}, nil},
	{"Barcelona", "Spain", 41.3874, 2.1686, 5.6, 60, false, []area{
		{"Gothic Quarter", 41.3830, 2.1770}, {"Gràcia", 41.4030, 2.1570}, {"El Born", 41.3850, 2.1830},
		{"Eixample", 41.3920, 2.1620}, {"Barceloneta", 41.3809, 2.1897}, {"Poblenou", 41.4030, 2.2030}},
		[]area{{"Barceloneta Beach", 41.3784, 2.1925}}},
	{"Sydney", "Australia", -33.8688, 151.2093, 5.3, 600, true, []area{
		{"CBD", -33.8688, 151.2093}, {"Surry Hills", -33.8861, 151.2111}, {"Bondi", -33.8940, 151.2630},
		{"Newtown", -33.8978, 151.1785}, {"Paddington", -33.8842, 151.2270}, {"Manly", -33.7969, 151.2840}},
		[]area{{"Bondi Beach", -33.8908, 151.2743}, {"Manly Beach", -33.7972, 151.2880}}},
	{"Dubai", "United Arab Emirates", 25.2048, 55.2708, 3.5, 240, false, []area{
		{"Downtown Dubai", 25.1972, 55.2744}, {"DIFC", 25.2110, 55.2800}, {"Jumeirah", 25.2180, 55.2550},
		{"Deira", 25.2697, 55.3095}, {"Business Bay", 25.1860, 55.2650}}, []area{{"JBR Beach", 25.0785, 55.1335}}},
	{"Singapore", "Singapore", 1.2903, 103.8520, 5.9, 480, false, []area{
		{"Marina Bay", 1.2834, 103.8607}, {"Orchard", 1.3048, 103.8318}, {"Chinatown", 1.2838, 103.8440},
		{"Tiong Bahru", 1.2850, 103.8270}, {"Kampong Glam", 1.3020, 103.8590}, {"Tanjong Pagar", 1.2764, 103.8458}},
		[]area{{"Siloso Beach", 1.2557, 103.8107}}},
	{"Rome", "Italy", 41.9028, 12.4964, 4.3, 60, false, []area{
		{"Centro Storico", 41.8986, 12.4769}, {"Trastevere", 41.8897, 12.4700}, {"Monti", 41.8950, 12.4920},
		{"Testaccio", 41.8770, 12.4760}, {"Prati", 41.9070, 12.4620}, {"San Lorenzo", 41.8980, 12.5150}}, nil},
	{"Amsterdam", "Netherlands", 52.3676, 4.9041, 2.5, 60, false, []area{
		{"Centrum", 52.3731, 4.8922}, {"Jordaan", 52.3740, 4.8810}, {"De Pijp", 52.3540, 4.8950},
		{"Oost", 52.3600, 4.9300}, {"Noord", 52.3900, 4.9200}, {"Oud-West", 52.3650, 4.8650}}, nil},
	{"Istanbul", "Turkey", 41.0082, 28.9784, 15.6, 180, false, []area{
		{"Sultanahmet", 41.0054, 28.9768}, {"Beyoğlu", 41.0369, 28.9770}, {"Kadıköy", 40.9910, 29.0270},
		{"Beşiktaş", 41.0430, 29.0070}, {"Üsküdar", 41.0260, 29.0150}, {"Nişantaşı", 41.0520, 28.9940}}, nil},
	{"Hong Kong", "Hong Kong", 22.2820, 114.1588, 7.5, 480, false, []area{
		{"Central", 22.2820, 114.1588}, {"Tsim Sha Tsui", 22.2976, 114.1722}, {"Mong Kok", 22.3193, 114.1694},
		{"Causeway Bay", 22.2800, 114.1830}, {"Sheung Wan", 22.2866, 114.1500}, {"Wan Chai", 22.2770, 114.1720}},
		[]area{{"Repulse Bay Beach", 22.2361, 114.1967}}},
	{"Madrid", "Spain", 40.4168, -3.7038, 6.7, 60, false, []area{
		{"Sol", 40.4169, -3.7035}, {"Malasaña", 40.4260, -3.7040}, {"Chueca", 40.4230, -3.6970},
		{"La Latina", 40.4110, -3.7110}, {"Salamanca", 40.4300, -3.6780}, {"Lavapiés", 40.4080, -3.7010}}, nil},
	{"Milan", "Italy", 45.4642, 9.1900, 3.1, 60, false, []area{
		{"Duomo", 45.4642, 9.1900}, {"Brera", 45.4720, 9.1870}, {"Navigli", 45.4520, 9.1750},
		{"Isola", 45.4880, 9.1890}, {"Porta Romana", 45.4510, 9.2030}, {"Città Studi", 45.4780, 9.2270}}, nil},
	{"Lisbon", "Portugal", 38.7223, -9.1393, 2.9, 0, false, []area{
		{"Baixa", 38.7110, -9.1370}, {"Alfama", 38.7115, -9.1300}, {"Bairro Alto", 38.7130, -9.1450},
		{"Belém", 38.6970, -9.2060}, {"Príncipe Real", 38.7170, -9.1490}, {"Parque das Nações", 38.7680, -9.0940}},
		[]area{{"Carcavelos Beach", 38.6780, -9.3360}}},
	{"Chicago", "United States", 41.8781, -87.6298, 9.4, -360, false, []area{
		{"The Loop", 41.8837, -87.6289}, {"River North", 41.8924, -87.6341}, {"Wicker Park", 41.9088, -87.6796},
		{"Lincoln Park", 41.9214, -87.6513}, {"Logan Square", 41.9230, -87.7090}, {"Pilsen", 41.8560, -87.6560}},
		[]area{{"North Avenue Beach", 41.9145, -87.6250}}},
	{"San Francisco", "United States", 37.7749, -122.4194, 4.7, -480, false, []area{
		{"Union Square", 37.7880, -122.4075}, {"Mission District", 37.7599, -122.4148}, {"SoMa", 37.7785, -122.4056},
		{"Haight-Ashbury", 37.7692, -122.4481}, {"North Beach", 37.8061, -122.4103}, {"Castro", 37.7609, -122.4350}},
		[]area{{"Ocean Beach", 37.7594, -122.5107}}},
	{"Miami", "United States", 25.7617, -80.1918, 6.1, -300, false, []area{
		{"Downtown Miami", 25.7743, -80.1937}, {"Brickell", 25.7617, -80.1918}, {"Wynwood", 25.8010, -80.1990},
		{"Little Havana", 25.7650, -80.2190}, {"Coconut Grove", 25.7280, -80.2430}, {"South Beach", 25.7826, -80.1341}},
		[]area{{"Lummus Park Beach", 25.7797, -80.1300}}},
	{"Toronto", "Canada", 43.6532, -79.3832, 6.2, -300, false, []area{
		{"Downtown Toronto", 43.6510, -79.3830}, {"Kensington Market", 43.6547, -79.4005}, {"Yorkville", 43.6710, -79.3930},
		{"Leslieville", 43.6620, -79.3330}, {"Queen West", 43.6470, -79.4100}, {"Distillery District", 43.6503, -79.3596}},
		[]area{{"Woodbine Beach", 43.6630, -79.3080}}},
	{"Mexico City", "Mexico", 19.4326, -99.1332, 21.8, -360, false, []area{
		{"Centro Histórico", 19.4326, -99.1332}, {"Roma Norte", 19.4190, -99.1620}, {"Condesa", 19.4110, -99.1730},
		{"Polanco", 19.4330, -99.1900}, {"Coyoacán", 19.3500, -99.1620}, {"Juárez", 19.4270, -99.1570}}, nil},
	{"São Paulo", "Brazil", -23.5505, -46.6333, 22.4, -180, false, []area{
		{"Centro", -23.5475, -46.6361}, {"Vila Madalena", -23.5530, -46.6910}, {"Pinheiros", -23.5670, -46.7020},
		{"Jardins", -23.5670, -46.6600}, {"Liberdade", -23.5580, -46.6350}, {"Moema", -23.6000, -46.6650}}, nil},
	{"Rio de Janeiro", "Brazil", -22.9068, -43.1729, 13.6, -180, false, []area{
		{"Centro do Rio", -22.9068, -43.1729}, {"Copacabana", -22.9690, -43.1870}, {"Ipanema", -22.9838, -43.2096},
		{"Leblon", -22.9840, -43.2240}, {"Botafogo", -22.9510, -43.1840}, {"Santa Teresa", -22.9200, -43.1880}},
		[]area{{"Copacabana Beach", -22.9710, -43.1820}, {"Ipanema Beach", -22.9868, -43.2045}}},
	{"Seoul", "South Korea", 37.5665, 126.9780, 25.9, 540, false, []area{
		{"Myeongdong", 37.5636, 126.9826}, {"Gangnam", 37.4979, 127.0276}, {"Hongdae", 37.5563, 126.9236},
		{"Itaewon", 37.5345, 126.9946}, {"Seongsu", 37.5446, 127.0557}, {"Jongno", 37.5720, 126.9794}}, nil},
	{"Bangkok", "Thailand", 13.7563, 100.5018, 10.9, 420, false, []area{
		{"Rattanakosin", 13.7500, 100.4930}, {"Siam", 13.7456, 100.5341}, {"Sukhumvit", 13.7370, 100.5600},
		{"Silom", 13.7290, 100.5340}, {"Thonglor", 13.7320, 100.5830}, {"Ari", 13.7790, 100.5450}}, nil},
	{"Mumbai", "India", 19.0760, 72.8777, 21.3, 330, false, []area{
		{"Bandra", 19.0596, 72.8295}, {"Lower Parel", 18.9986, 72.8270}, {"Worli", 19.0170, 72.8160},
		{"Dadar", 19.0180, 72.8440}, {"Juhu", 19.1075, 72.8263}, {"Andheri", 19.1136, 72.8697}},
		[]area{{"Juhu Beach", 19.0988, 72.8267}}},
	{"Melbourne", "Australia", -37.8136, 144.9631, 5.1, 600, true, []area{
		{"Melbourne CBD", -37.8136, 144.9631}, {"Fitzroy", -37.7980, 144.9780}, {"St Kilda", -37.8676, 144.9800},
		{"Carlton", -37.8000, 144.9670}, {"Richmond", -37.8180, 144.9980}, {"Brunswick", -37.7670, 144.9610}},
		[]area{{"St Kilda Beach", -37.8670, 144.9740}}},
	{"Dublin", "Ireland", 53.3498, -6.2603, 1.4, 0, true, []area{
		{"Temple Bar", 53.3455, -6.2642}, {"Smithfield", 53.3486, -6.2785}, {"Rathmines", 53.3219, -6.2655},
		{"Ranelagh", 53.3260, -6.2560}, {"Portobello", 53.3300, -6.2670}, {"Docklands", 53.3460, -6.2370}},
		[]area{{"Dollymount Strand", 53.3650, -6.1540}}},
	{"Stockholm", "Sweden", 59.3293, 18.0686, 2.4, 60, false, []area{
		{"Norrmalm", 59.3340, 18.0630}, {"Gamla Stan", 59.3258, 18.0719}, {"Södermalm", 59.3150, 18.0710},
		{"Östermalm", 59.3380, 18.0860}, {"Vasastan", 59.3450, 18.0500}, {"Kungsholmen", 59.3330, 18.0300}}, nil},
	{"Copenhagen", "Denmark", 55.6761, 12.5683, 2.1, 60, false, []area{
		{"Indre By", 55.6790, 12.5750}, {"Nørrebro", 55.6940, 12.5490}, {"Vesterbro", 55.6680, 12.5450},
		{"Østerbro", 55.7070, 12.5770}, {"Frederiksberg", 55.6780, 12.5320}, {"Christianshavn", 55.6720, 12.5940}},
		[]area{{"Amager Strand", 55.6580, 12.6480}}},
	{"Vienna", "Austria", 48.2082, 16.3738, 2.0, 60, false, []area{
		{"Innere Stadt", 48.2085, 16.3721}, {"Neubau", 48.2020, 16.3490}, {"Leopoldstadt", 48.2170, 16.3950},
		{"Josefstadt", 48.2110, 16.3470}, {"Mariahilf", 48.1960, 16.3470}, {"Wieden", 48.1920, 16.3700}}, nil},
	{"Prague", "Czechia", 50.0755, 14.4378, 1.3, 60, false, []area{
		{"Old Town", 50.0875, 14.4213}, {"Malá Strana", 50.0880, 14.4040}, {"Vinohrady", 50.0750, 14.4470},
		{"Žižkov", 50.0830, 14.4530}, {"Holešovice", 50.1030, 14.4390}, {"Karlín", 50.0920, 14.4520}}, nil},
	{"Athens", "Greece", 37.9838, 23.7275, 3.2, 120, false, []area{
		{"Syntagma", 37.9755, 23.7348}, {"Plaka", 37.9715, 23.7298}, {"Monastiraki", 37.9763, 23.7253},
		{"Kolonaki", 37.9790, 23.7420}, {"Exarcheia", 37.9870, 23.7340}, {"Koukaki", 37.9650, 23.7220}}, nil},
	{"Cape Town", "South Africa", -33.9249, 18.4241, 4.8, 120, false, []area{
		{"City Bowl", -33.9249, 18.4241}, {"V&A Waterfront", -33.9036, 18.4210}, {"Sea Point", -33.9150, 18.3880},
		{"Woodstock", -33.9280, 18.4450}, {"Green Point", -33.9070, 18.4080}, {"Observatory", -33.9380, 18.4720}},
		[]area{{"Camps Bay Beach", -33.9510, 18.3775}}},
	{"Buenos Aires", "Argentina", -34.6037, -58.3816, 15.5, -180, false, []area{
		{"Microcentro", -34.6037, -58.3816}, {"Palermo", -34.5880, -58.4300}, {"San Telmo", -34.6210, -58.3730},
		{"Recoleta", -34.5875, -58.3974}, {"La Boca", -34.6345, -58.3631}, {"Belgrano", -34.5627, -58.4583}}, nil},
	{"Vancouver", "Canada", 49.2827, -123.1207, 2.6, -480, false, []area{
		{"Downtown Vancouver", 49.2820, -123.1200}, {"Gastown", 49.2840, -123.1090}, {"Kitsilano", 49.2680, -123.1680},
		{"Yaletown", 49.2750, -123.1210}, {"Mount Pleasant", 49.2630, -123.1000}, {"Commercial Drive", 49.2730, -123.0690}},
		[]area{{"English Bay Beach", 49.2863, -123.1430}}},
	{"Shanghai", "China", 31.2304, 121.4737, 29, 480, false, []area{
		{"People's Square", 31.2304, 121.4737}, {"The Bund", 31.2400, 121.4900}, {"Jing'an", 31.2290, 121.4480},
		{"Xintiandi", 31.2190, 121.4750}, {"Lujiazui", 31.2397, 121.4998}, {"Former French Concession", 31.2100, 121.4500}}, nil},
	{"Cairo", "Egypt", 30.0444, 31.2357, 22, 120, false, []area{
		{"Downtown Cairo", 30.0444, 31.2357}, {"Zamalek", 30.0609, 31.2197}, {"Garden City", 30.0370, 31.2310},
		{"Maadi", 29.9602, 31.2569}, {"Heliopolis", 30.0911, 31.3225}, {"Mohandessin", 30.0560, 31.2000}}, nil},
	{"Lagos", "Nigeria", 6.4541, 3.3947, 15.4, 60, false, []area{
		{"Lagos Island", 6.4541, 3.3947}, {"Victoria Island", 6.4281, 3.4219}, {"Ikoyi", 6.4550, 3.4350},
		{"Lekki", 6.4474, 3.4722}, {"Yaba", 6.5095, 3.3711}, {"Surulere", 6.5000, 3.3500}}, nil},
	{"Nairobi", "Kenya", -1.2921, 36.8219, 5.3, 180, false, []area{
		{"Nairobi CBD", -1.2864, 36.8172}, {"Westlands", -1.2676, 36.8108}, {"Kilimani", -1.2900, 36.7830},
		{"Parklands", -1.2630, 36.8150}, {"Lavington", -1.2780, 36.7700}, {"Kileleshwa", -1.2800, 36.7850}}, nil},
	{"Tel Aviv", "Israel", 32.0853, 34.7818, 4.2, 120, false, []area{
		{"Dizengoff", 32.0780, 34.7740}, {"Rothschild", 32.0636, 34.7740}, {"Florentin", 32.0560, 34.7700},
		{"Neve Tzedek", 32.0600, 34.7650}, {"Jaffa", 32.0540, 34.7520}, {"Old North", 32.0900, 34.7780}},
		[]area{{"Gordon Beach", 32.0833, 34.7677}}},
}
