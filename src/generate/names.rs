//! Raw per-language data: given and family names, organisation name parts, job titles and
//! places. Latin and Cyrillic entries are transliterated for e-mail addresses by
//! [`super::locale`]; Arabic and Hebrew ones carry their Latin form after a `|`.

pub const EN_MALE: &[&str] = &[
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Steven", "Paul", "Andrew",
    "Joshua", "Kevin", "Brian", "George", "Edward", "Ryan", "Jacob", "Nicholas", "Oliver", "Harry",
    "Jack", "Samuel",
];
pub const EN_FEMALE: &[&str] = &[
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Nancy", "Lisa", "Emily", "Emma", "Olivia", "Sophie", "Charlotte", "Amelia", "Hannah",
    "Laura", "Rebecca", "Rachel", "Megan", "Lauren", "Amy", "Grace", "Chloe", "Lucy", "Anna",
    "Kate",
];
pub const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Evans", "Turner", "Parker",
    "Collins", "Edwards", "Hughes",
];

pub const DE_MALE: &[&str] = &[
    "Lukas", "Leon", "Finn", "Jonas", "Paul", "Felix", "Maximilian", "Elias", "Noah", "Ben", "Tim",
    "Jan", "Niklas", "Tobias", "Stefan", "Michael", "Thomas", "Andreas", "Markus", "Christian",
    "Sebastian", "Florian", "Matthias", "Jürgen", "Uwe", "Klaus", "Wolfgang", "Dieter", "Frank",
    "Sven",
];
pub const DE_FEMALE: &[&str] = &[
    "Anna", "Lena", "Lea", "Hannah", "Mia", "Emma", "Sophie", "Marie", "Laura", "Julia",
    "Katharina", "Sarah", "Lisa", "Johanna", "Sabine", "Petra", "Claudia", "Monika", "Andrea",
    "Stefanie", "Nicole", "Birgit", "Ursula", "Greta", "Jana", "Franziska", "Miriam", "Carina",
    "Jessica", "Sandra",
];
pub const DE_LAST: &[&str] = &[
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Schmitz", "Krause", "Meier", "Lehmann", "Köhler",
];

pub const RU_MALE: &[&str] = &[
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Василий", "Виктор",
    "Владимир", "Дмитрий", "Евгений", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Максим",
    "Михаил", "Никита", "Николай", "Олег", "Павел", "Роман", "Сергей", "Станислав", "Тимур",
    "Фёдор", "Юрий", "Ярослав",
];
pub const RU_FEMALE: &[&str] = &[
    "Анастасия", "Анна", "Виктория", "Галина", "Дарья", "Екатерина", "Елена", "Ирина", "Ксения",
    "Лариса", "Людмила", "Марина", "Мария", "Наталья", "Надежда", "Ольга", "Полина", "Светлана",
    "Софья", "Татьяна", "Юлия", "Вера", "Алина", "Валентина", "Евгения", "Кристина", "Любовь",
    "Маргарита", "Алёна", "Оксана",
];
/// Masculine forms; [`super::locale`] derives the feminine ones (Иванов → Иванова).
pub const RU_LAST: &[&str] = &[
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов",
    "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев",
    "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Кузьмин",
    "Фролов", "Королёв", "Гусев", "Вишневский", "Покровский", "Белых", "Шевченко",
];

pub const KZ_MALE: &[&str] = &[
    "Нурлан", "Ерлан", "Асхат", "Бауыржан", "Данияр", "Ержан", "Жандос", "Айдар", "Арман", "Марат",
    "Серік", "Талгат", "Тимур", "Азамат", "Әлібек", "Берік", "Дәурен", "Қанат", "Мұрат",
    "Нұрсұлтан", "Руслан", "Санжар", "Ерболат", "Әділ", "Айбек", "Дамир", "Еркебұлан", "Мирас",
    "Олжас", "Самат",
];
pub const KZ_FEMALE: &[&str] = &[
    "Айгүл", "Айгерім", "Әсел", "Әлия", "Гүлнара", "Динара", "Жанар", "Жанна", "Камила", "Мадина",
    "Назгүл", "Сәуле", "Томирис", "Ұлжан", "Айжан", "Аружан", "Гаухар", "Дана", "Жібек", "Индира",
    "Қарлығаш", "Ләззат", "Меруерт", "Салтанат", "Толқын", "Шолпан", "Айнұр", "Балжан", "Ақмарал",
    "Зарина",
];
pub const KZ_LAST: &[&str] = &[
    "Ахметов", "Абдрахманов", "Жұмабаев", "Қасымов", "Нұрпейісов", "Сүлейменов", "Исқақов",
    "Оспанов", "Төлегенов", "Омаров", "Байжанов", "Мұхамеджанов", "Есенов", "Жақсылықов",
    "Кенжебаев", "Садықов", "Өтегенов", "Шаймерденов", "Бекмұханов", "Ғабдуллин", "Исмаилов",
    "Қалиев", "Мамыров", "Нұрғалиев", "Рахимов", "Смағұлов", "Тұрсынов", "Ермеков", "Серікбаев",
    "Әбенов",
];

pub const AR_MALE: &[&str] = &[
    "محمد|mohammed", "أحمد|ahmed", "علي|ali", "عمر|omar", "خالد|khaled", "يوسف|yousef",
    "إبراهيم|ibrahim", "عبدالله|abdullah", "حسن|hassan", "حسين|hussein", "سعيد|saeed", "فهد|fahad",
    "سلطان|sultan", "ماجد|majed", "راشد|rashed", "طارق|tariq", "ياسر|yasser", "سامي|sami",
    "كريم|karim", "نبيل|nabil", "وليد|waleed", "زياد|ziad", "بدر|badr", "عادل|adel",
    "منصور|mansour", "ناصر|nasser", "هشام|hisham", "جمال|jamal", "مصطفى|mustafa", "سلمان|salman",
];
pub const AR_FEMALE: &[&str] = &[
    "فاطمة|fatima", "عائشة|aisha", "مريم|maryam", "نورة|noura", "سارة|sara", "ليلى|layla",
    "هدى|huda", "أمل|amal", "ريم|reem", "دانة|dana", "لينا|lina", "نوال|nawal", "سلمى|salma",
    "هند|hind", "رنا|rana", "منى|mona", "جميلة|jamila", "خديجة|khadija", "زينب|zainab",
    "شيماء|shaimaa", "لطيفة|latifa", "أسماء|asma", "رغد|raghad", "يارا|yara", "جنى|jana",
    "حصة|hessa", "شهد|shahad", "ديما|dima", "روان|rawan", "لمى|lama",
];
pub const AR_LAST: &[&str] = &[
    "العتيبي|alotaibi", "القحطاني|alqahtani", "الغامدي|alghamdi", "الحربي|alharbi",
    "الشمري|alshammari", "الدوسري|aldosari", "المطيري|almutairi", "الزهراني|alzahrani",
    "السبيعي|alsubaie", "المالكي|almalki", "الهاشمي|alhashimi", "المنصوري|almansouri",
    "الكعبي|alkaabi", "النعيمي|alnuaimi", "الظاهري|aldhaheri", "البلوشي|albalushi",
    "الفلاسي|alfalasi", "المهيري|almheiri", "السويدي|alsuwaidi", "الشامسي|alshamsi", "حداد|haddad",
    "خوري|khoury", "نصار|nassar", "سليمان|suleiman", "عبدالرحمن|abdulrahman", "الأنصاري|alansari",
    "العمري|alomari", "التميمي|altamimi", "الجابري|aljaberi", "الرشيد|alrasheed",
];

pub const HE_MALE: &[&str] = &[
    "דוד|david", "יוסף|yosef", "משה|moshe", "אברהם|avraham", "יעקב|yaakov", "דניאל|daniel",
    "אורי|uri", "איתי|itai", "נועם|noam", "עומר|omer", "יונתן|yonatan", "איתן|eitan", "אריאל|ariel",
    "עידו|ido", "גיא|guy", "רון|ron", "אלון|alon", "יובל|yuval", "תומר|tomer", "עמית|amit",
    "שי|shai", "רועי|roi", "אסף|asaf", "ניר|nir", "אבי|avi", "חיים|haim", "שמואל|shmuel",
    "מיכאל|michael", "בנימין|binyamin", "עמרי|omri",
];
pub const HE_FEMALE: &[&str] = &[
    "שרה|sara", "רחל|rachel", "לאה|leah", "רבקה|rivka", "מיכל|michal", "נועה|noa", "תמר|tamar",
    "יעל|yael", "שירה|shira", "מאיה|maya", "אביגיל|avigail", "הילה|hila", "ענבל|inbal", "רוני|roni",
    "שני|shani", "דנה|dana", "קרן|keren", "אורית|orit", "ליאת|liat", "גלית|galit", "אסתר|ester",
    "חנה|hana", "נעמה|naama", "עדי|adi", "טל|tal", "ליה|lia", "אילנה|ilana", "מירב|merav",
    "סיגל|sigal", "אפרת|efrat",
];
pub const HE_LAST: &[&str] = &[
    "כהן|cohen", "לוי|levi", "מזרחי|mizrahi", "פרץ|peretz", "ביטון|biton", "דהן|dahan",
    "אברהם|avraham", "פרידמן|friedman", "אזולאי|azulay", "מלכה|malka", "חדד|hadad", "גבאי|gabay",
    "שפירא|shapira", "אוחיון|ohayon", "יוסף|yosef", "קפלן|kaplan", "גולן|golan", "שלום|shalom",
    "בן דוד|bendavid", "רוזנברג|rosenberg", "אשכנזי|ashkenazi", "כץ|katz", "ברק|barak",
    "גרינברג|greenberg", "סויסה|swisa", "עמר|amar", "אלון|alon", "נחום|nahum", "לנדאו|landau",
    "וייס|weiss",
];

/// Organisation name stems and the industry words English and German names combine with.
pub const EN_ORG: &[&str] = &[
    "Acme", "Summit", "Pioneer", "Northwind", "Bluewater", "Granite", "Evergreen", "Redwood",
    "Silverline", "Apex", "Horizon", "Keystone", "Lighthouse", "Meridian", "Oakridge", "Pinnacle",
    "Riverside", "Sterling", "Trident", "Vanguard", "Westbrook", "Brightpath", "Crescent", "Falcon",
    "Harbor", "Ironclad", "Juniper", "Maple", "Nova", "Orchard",
];
pub const EN_INDUSTRY: &[&str] = &[
    "Logistics", "Systems", "Foods", "Consulting", "Trading", "Solutions", "Industries", "Media",
    "Retail", "Engineering", "Analytics", "Supply",
];
pub const DE_ORG: &[&str] = &[
    "Nordlicht", "Alpenblick", "Rheinland", "Sonnenberg", "Eichenwald", "Bergblick", "Elbtal",
    "Isar", "Spreewald", "Lindenhof", "Sternwarte", "Falkenstein", "Mühlbach", "Schwarzwald",
    "Bodensee", "Weserland", "Taunus", "Harz", "Ostsee", "Donau",
];
pub const DE_INDUSTRY: &[&str] = &[
    "Logistik", "Handels", "Bau", "Software", "Maschinenbau", "Consulting", "Medien", "Technik",
    "Vertrieb", "Immobilien",
];
pub const RU_ORG: &[&str] = &[
    "Вектор", "Сибирь", "Альфа", "Гранит", "Восток", "Меридиан", "Прогресс", "Горизонт", "Импульс",
    "Спектр", "Атлант", "Вега", "Гелиос", "Орион", "Рассвет", "Север", "Фаворит", "Эталон",
    "Кристалл", "Магистраль", "Аврора", "Феникс", "Лидер", "Партнёр", "Ресурс",
];
pub const RU_ORG_SUFFIX: &[&str] = &[
    "Строй", "Торг", "Сервис", "Логистик", "Пром", "Тех", "Инвест",
];
pub const KZ_ORG: &[&str] = &[
    "Алатау", "Сарыарқа", "Береке", "Каспий", "Жетісу", "Тәңір", "Алтын", "Нұр", "Шалқар",
    "Самұрық", "Қайнар", "Асыл", "Достық", "Арман", "Мерей", "Болашақ", "Таулан", "Ақ Жол",
    "Бәйтерек", "Ордабасы",
];
pub const AR_ORG: &[&str] = &[
    "النور|alnoor", "الفجر|alfajr", "الريان|alrayan", "الخليج|alkhaleej", "الصقر|alsaqr",
    "الأمل|alamal", "البركة|albaraka", "الواحة|alwaha", "السلام|alsalam", "المستقبل|almustaqbal",
    "الرواد|alrowad", "النخيل|alnakheel", "الهلال|alhilal", "الجزيرة|aljazeera", "الصفا|alsafa",
    "المروة|almarwa", "الأفق|alofoq", "الاتحاد|alittihad", "الشروق|alshorouk", "الأندلس|alandalus",
];
/// Arabic organisation patterns; `{}` is the stem.
pub const AR_ORG_PATTERN: &[&str] = &[
    "شركة {} للتجارة", "مؤسسة {} التجارية", "مجموعة {}", "شركة {} للمقاولات",
    "{} للخدمات اللوجستية", "مصنع {}", "شركة {} للتقنية",
];
pub const HE_ORG: &[&str] = &[
    "אורן|oren", "ארז|erez", "גלבוע|gilboa", "כרמל|carmel", "תמר|tamar", "שקד|shaked",
    "רימון|rimon", "נגב|negev", "גליל|galil", "אלון|alon", "ברוש|brosh", "דקל|dekel", "זית|zait",
    "חרמון|hermon", "ירדן|yarden", "מגדל|migdal", "נחל|nahal", "סלע|sela", "עמק|emek", "פסגה|pisga",
];
pub const HE_ORG_PATTERN: &[&str] = &[
    "חברת {} בע\"מ", "{} בע\"מ", "{} שיווק בע\"מ", "{} טכנולוגיות בע\"מ", "{} סחר בע\"מ",
    "קבוצת {}",
];

pub const ROLES_EN: &[&str] = &[
    "CEO", "CFO", "Procurement Manager", "Office Manager", "IT Director", "Head of Operations",
    "Accountant", "Sales Director", "Purchasing Specialist", "Marketing Manager",
];
pub const ROLES_DE: &[&str] = &[
    "Geschäftsführer", "Einkaufsleiter", "Buchhaltung", "IT-Leiter", "Office Manager",
    "Vertriebsleiter",
];
pub const ROLES_RU: &[&str] = &[
    "Генеральный директор", "Главный бухгалтер", "Менеджер по закупкам", "Офис-менеджер",
    "ИТ-директор", "Коммерческий директор",
];
pub const ROLES_AR: &[&str] = &[
    "المدير العام", "مدير المشتريات", "المحاسب", "مدير تقنية المعلومات", "مدير المكتب",
    "Procurement Manager",
];
pub const ROLES_HE: &[&str] = &[
    "מנכ\"ל", "סמנכ\"ל כספים", "מנהל רכש", "מנהלת משרד", "מנהל מערכות מידע", "CFO",
];

/// A place: region, city, landline area code (without trunk prefix), relative weight.
pub type Place = (&'static str, &'static str, &'static str, f64);

pub const US_PLACES: &[Place] = &[
    ("NY", "New York", "212", 0.25),
    ("CA", "Los Angeles", "213", 0.15),
    ("CA", "San Francisco", "415", 0.10),
    ("IL", "Chicago", "312", 0.12),
    ("TX", "Houston", "713", 0.10),
    ("TX", "Dallas", "214", 0.08),
    ("WA", "Seattle", "206", 0.07),
    ("MA", "Boston", "617", 0.07),
    ("FL", "Miami", "305", 0.06),
];
pub const GB_PLACES: &[Place] = &[
    ("England", "London", "20", 0.50),
    ("England", "Manchester", "161", 0.15),
    ("England", "Birmingham", "121", 0.12),
    ("Scotland", "Edinburgh", "131", 0.10),
    ("Scotland", "Glasgow", "141", 0.08),
    ("Wales", "Cardiff", "29", 0.05),
];
pub const DE_PLACES: &[Place] = &[
    ("Berlin", "Berlin", "30", 0.25),
    ("Bayern", "München", "89", 0.20),
    ("Hamburg", "Hamburg", "40", 0.15),
    ("Hessen", "Frankfurt am Main", "69", 0.12),
    ("Nordrhein-Westfalen", "Köln", "221", 0.13),
    ("Baden-Württemberg", "Stuttgart", "711", 0.10),
    ("Sachsen", "Leipzig", "341", 0.05),
];
pub const RU_PLACES: &[Place] = &[
    ("Москва", "Москва", "495", 0.40),
    ("Санкт-Петербург", "Санкт-Петербург", "812", 0.20),
    ("Новосибирская область", "Новосибирск", "383", 0.08),
    ("Свердловская область", "Екатеринбург", "343", 0.08),
    ("Республика Татарстан", "Казань", "843", 0.08),
    ("Нижегородская область", "Нижний Новгород", "831", 0.06),
    ("Краснодарский край", "Краснодар", "861", 0.10),
];
pub const KZ_PLACES: &[Place] = &[
    ("Алматы", "Алматы", "727", 0.45),
    ("Астана", "Астана", "7172", 0.30),
    ("Карагандинская область", "Караганда", "7212", 0.10),
    ("Атырауская область", "Атырау", "7122", 0.08),
    ("Шымкент", "Шымкент", "7252", 0.07),
];
pub const AE_PLACES: &[Place] = &[
    ("دبي", "دبي", "4", 0.50),
    ("أبوظبي", "أبوظبي", "2", 0.30),
    ("الشارقة", "الشارقة", "6", 0.20),
];
pub const SA_PLACES: &[Place] = &[
    ("منطقة الرياض", "الرياض", "11", 0.45),
    ("منطقة مكة المكرمة", "جدة", "12", 0.35),
    ("المنطقة الشرقية", "الدمام", "13", 0.20),
];
pub const IL_PLACES: &[Place] = &[
    ("מחוז תל אביב", "תל אביב-יפו", "3", 0.45),
    ("מחוז ירושלים", "ירושלים", "2", 0.25),
    ("מחוז חיפה", "חיפה", "4", 0.20),
    ("מחוז הדרום", "באר שבע", "8", 0.10),
];
