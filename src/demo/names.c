/* names.c - names, places, e-mail addresses and phone numbers of the demo
 * business's customers (demo layer). Nine countries in four scripts: Latin
 * (US, GB, DE, ES, FR), Cyrillic (UA), Greek (GR) and CJK (CN, JP). Every
 * name carries its Latin transliteration for e-mail addresses (Ukrainian:
 * the official 2010 table; Greek: ELOT 743; Chinese: pinyin; Japanese:
 * Hepburn without long vowels). */
#include "demo/demo_int.h"

#include <gsl/gsl_randist.h>
#include <stdio.h>
#include <string.h>

struct gname { const char *native, *lat; };
/* A family name in its male and female forms (the same where the language
 * does not inflect them). */
struct fname { const char *m, *f, *lat_m, *lat_f; };

struct city {
	const char *name, *region;
	int lo, hi;          /* postcode range (numeric part) */
	const char *extra;   /* US: area code; GB: outward codes separated by spaces */
};

struct country {
	const char *code;
	double share;
	int script;
	int double_family;                 /* Spanish: two family names */
	const struct gname *given_f, *given_m;
	size_t n_given_f, n_given_m;
	const struct fname *family;
	size_t n_family;
	const struct city *cities;
	size_t n_cities;
	const char *const *streets;
	size_t n_streets;
	const char *const *domains;        /* e-mail domains, most used first */
	size_t n_domains;
	const char *const *phone_prefixes; /* first digits of mobile numbers */
	size_t n_phone_prefixes;
	int phone_len;                     /* digits of the national number */
	const char *const *phone_formats;  /* '#' takes the next digit */
	size_t n_phone_formats;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define F1(x, l) { x, x, l, l }

/* ------------------------------------------------------------- United States */
static const struct gname us_f[] = {
	{ "Jennifer", "jennifer" }, { "Linda", "linda" }, { "Patricia", "patricia" },
	{ "Elizabeth", "elizabeth" }, { "Susan", "susan" }, { "Jessica", "jessica" },
	{ "Ashley", "ashley" }, { "Emily", "emily" }, { "Madison", "madison" },
	{ "Olivia", "olivia" }, { "Ava", "ava" }, { "Mary Ann", "maryann" },
};
static const struct gname us_m[] = {
	{ "James", "james" }, { "Michael", "michael" }, { "Robert", "robert" },
	{ "John", "john" }, { "David", "david" }, { "William", "william" },
	{ "Richard", "richard" }, { "Joseph", "joseph" }, { "Christopher", "christopher" },
	{ "Anthony", "anthony" }, { "Ethan", "ethan" }, { "Noah", "noah" },
};
static const struct fname us_fam[] = {
	F1("Smith", "smith"), F1("Johnson", "johnson"), F1("Williams", "williams"),
	F1("Brown", "brown"), F1("Jones", "jones"), F1("Garcia", "garcia"),
	F1("Miller", "miller"), F1("Davis", "davis"), F1("Rodriguez", "rodriguez"),
	F1("Martinez", "martinez"), F1("Hernandez", "hernandez"), F1("Lopez", "lopez"),
	F1("Wilson", "wilson"), F1("Anderson", "anderson"), F1("Taylor", "taylor"),
	F1("Moore", "moore"), F1("Jackson", "jackson"), F1("Nguyen", "nguyen"),
	F1("Kim", "kim"), F1("O'Connor", "oconnor"),
};
static const struct city us_cities[] = {
	{ "New York", "NY", 10001, 10282, "212" },
	{ "Los Angeles", "CA", 90001, 90089, "213" },
	{ "Chicago", "IL", 60601, 60661, "312" },
	{ "Houston", "TX", 77001, 77099, "713" },
	{ "Seattle", "WA", 98101, 98199, "206" },
	{ "Boston", "MA", 2108, 2137, "617" },
};
static const char *const us_streets[] = {
	"Maple Ave", "Oak Street", "Main Street", "Washington Blvd", "Park Avenue",
	"Cedar Lane", "Elm Street", "Sunset Blvd", "Lake Shore Dr", "Pine Road",
};
static const char *const us_domains[] = { "gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com" };
static const char *const us_fmt[] = {
	"(###) ###-####", "###-###-####", "+1 ###-###-####", "+1##########", "###.###.####",
};

/* ------------------------------------------------------------ United Kingdom */
static const struct gname gb_f[] = {
	{ "Olivia", "olivia" }, { "Emma", "emma" }, { "Sophie", "sophie" },
	{ "Charlotte", "charlotte" }, { "Amelia", "amelia" }, { "Hannah", "hannah" },
	{ "Grace", "grace" }, { "Chloe", "chloe" }, { "Zoë", "zoe" },
	{ "Sarah", "sarah" }, { "Emily", "emily" }, { "Siobhán", "siobhan" },
};
static const struct gname gb_m[] = {
	{ "Oliver", "oliver" }, { "Harry", "harry" }, { "George", "george" },
	{ "Jack", "jack" }, { "Thomas", "thomas" }, { "James", "james" },
	{ "William", "william" }, { "Daniel", "daniel" }, { "Matthew", "matthew" },
	{ "Christopher", "christopher" }, { "Rhys", "rhys" }, { "Seán", "sean" },
};
static const struct fname gb_fam[] = {
	F1("Smith", "smith"), F1("Jones", "jones"), F1("Williams", "williams"),
	F1("Taylor", "taylor"), F1("Brown", "brown"), F1("Davies", "davies"),
	F1("Evans", "evans"), F1("Wilson", "wilson"), F1("Thomas", "thomas"),
	F1("Roberts", "roberts"), F1("Walker", "walker"), F1("Wright", "wright"),
	F1("Robinson", "robinson"), F1("Thompson", "thompson"), F1("O'Brien", "obrien"),
	F1("Hughes", "hughes"), F1("Edwards", "edwards"), F1("Patel", "patel"),
};
static const struct city gb_cities[] = {
	{ "London", "England", 0, 0, "SW1A E1 N1 W2 SE1 NW3" },
	{ "Manchester", "England", 0, 0, "M1 M4 M14 M20" },
	{ "Birmingham", "England", 0, 0, "B1 B5 B15" },
	{ "Leeds", "England", 0, 0, "LS1 LS6" },
	{ "Edinburgh", "Scotland", 0, 0, "EH1 EH3 EH10" },
	{ "Cardiff", "Wales", 0, 0, "CF10 CF24" },
};
static const char *const gb_streets[] = {
	"High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane",
	"Manor Road", "Park Road", "Queen's Road", "Mill Lane", "King Street",
};
static const char *const gb_domains[] = { "gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com", "yahoo.co.uk" };
static const char *const gb_fmt[] = {
	"0#### ######", "+44 #### ######", "+44##########", "(0####) ######",
};

/* ------------------------------------------------------------------- Germany */
static const struct gname de_f[] = {
	{ "Anna", "anna" }, { "Ursula", "ursula" }, { "Sabine", "sabine" },
	{ "Petra", "petra" }, { "Monika", "monika" }, { "Julia", "julia" },
	{ "Lea", "lea" }, { "Lena", "lena" }, { "Hannah", "hannah" },
	{ "Käthe", "kaethe" }, { "Jana", "jana" }, { "Marie", "marie" },
};
static const struct gname de_m[] = {
	{ "Jürgen", "juergen" }, { "Klaus", "klaus" }, { "Stefan", "stefan" },
	{ "Thomas", "thomas" }, { "Michael", "michael" }, { "Andreas", "andreas" },
	{ "Lukas", "lukas" }, { "Jonas", "jonas" }, { "Felix", "felix" },
	{ "Maximilian", "maximilian" }, { "Björn", "bjoern" }, { "Jörg", "joerg" },
};
static const struct fname de_fam[] = {
	F1("Müller", "mueller"), F1("Schmidt", "schmidt"), F1("Schneider", "schneider"),
	F1("Fischer", "fischer"), F1("Weber", "weber"), F1("Meyer", "meyer"),
	F1("Wagner", "wagner"), F1("Becker", "becker"), F1("Schulz", "schulz"),
	F1("Hoffmann", "hoffmann"), F1("Schäfer", "schaefer"), F1("Koch", "koch"),
	F1("Bauer", "bauer"), F1("Richter", "richter"), F1("Klein", "klein"),
	F1("Schröder", "schroeder"), F1("Neumann", "neumann"), F1("Krüger", "krueger"),
	F1("Weiß", "weiss"), F1("Zimmermann", "zimmermann"),
};
static const struct city de_cities[] = {
	{ "Berlin", "Berlin", 10115, 14199, NULL },
	{ "München", "Bayern", 80331, 81929, NULL },
	{ "Köln", "Nordrhein-Westfalen", 50667, 51149, NULL },
	{ "Hamburg", "Hamburg", 20095, 22769, NULL },
	{ "Frankfurt am Main", "Hessen", 60306, 60599, NULL },
	{ "Düsseldorf", "Nordrhein-Westfalen", 40210, 40629, NULL },
};
static const char *const de_streets[] = {
	"Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Lindenstraße",
	"Goethestraße", "Schillerstraße", "Berliner Straße", "Kirchweg", "Am Markt",
};
static const char *const de_domains[] = { "gmx.de", "web.de", "gmail.com", "t-online.de", "outlook.de" };
static const char *const de_fmt[] = {
	"0### ########", "+49 ### ########", "+49###########", "0###/########",
};

/* --------------------------------------------------------------------- Spain */
static const struct gname es_f[] = {
	{ "María", "maria" }, { "Carmen", "carmen" }, { "Ana", "ana" },
	{ "Laura", "laura" }, { "Lucía", "lucia" }, { "Isabel", "isabel" },
	{ "Elena", "elena" }, { "Marta", "marta" }, { "Cristina", "cristina" },
	{ "Sofía", "sofia" }, { "Inés", "ines" }, { "María José", "mariajose" },
};
static const struct gname es_m[] = {
	{ "José", "jose" }, { "Antonio", "antonio" }, { "Manuel", "manuel" },
	{ "Francisco", "francisco" }, { "Javier", "javier" }, { "David", "david" },
	{ "Carlos", "carlos" }, { "Jesús", "jesus" }, { "Alejandro", "alejandro" },
	{ "Álvaro", "alvaro" }, { "Sergio", "sergio" }, { "Raúl", "raul" },
};
static const struct fname es_fam[] = {
	F1("García", "garcia"), F1("Rodríguez", "rodriguez"), F1("González", "gonzalez"),
	F1("Fernández", "fernandez"), F1("López", "lopez"), F1("Martínez", "martinez"),
	F1("Sánchez", "sanchez"), F1("Pérez", "perez"), F1("Gómez", "gomez"),
	F1("Martín", "martin"), F1("Jiménez", "jimenez"), F1("Ruiz", "ruiz"),
	F1("Hernández", "hernandez"), F1("Díaz", "diaz"), F1("Moreno", "moreno"),
	F1("Muñoz", "munoz"), F1("Álvarez", "alvarez"), F1("Romero", "romero"),
};
static const struct city es_cities[] = {
	{ "Madrid", "Comunidad de Madrid", 28001, 28055, NULL },
	{ "Barcelona", "Cataluña", 8001, 8042, NULL },
	{ "Sevilla", "Andalucía", 41001, 41020, NULL },
	{ "Valencia", "Comunitat Valenciana", 46001, 46026, NULL },
	{ "Bilbao", "País Vasco", 48001, 48015, NULL },
	{ "Málaga", "Andalucía", 29001, 29018, NULL },
};
static const char *const es_streets[] = {
	"Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Calle Real",
	"Paseo de Gracia", "Calle San Fernando", "Plaza de España", "Calle Nueva",
};
static const char *const es_domains[] = { "gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net" };
static const char *const es_fmt[] = {
	"### ### ###", "+34 ### ## ## ##", "+34#########", "###-##-##-##",
};

/* -------------------------------------------------------------------- France */
static const struct gname fr_f[] = {
	{ "Marie", "marie" }, { "Nathalie", "nathalie" }, { "Isabelle", "isabelle" },
	{ "Sophie", "sophie" }, { "Camille", "camille" }, { "Léa", "lea" },
	{ "Chloé", "chloe" }, { "Manon", "manon" }, { "Hélène", "helene" },
	{ "Céline", "celine" }, { "Émilie", "emilie" }, { "Anaïs", "anais" },
};
static const struct gname fr_m[] = {
	{ "François", "francois" }, { "Jean", "jean" }, { "Pierre", "pierre" },
	{ "Michel", "michel" }, { "Nicolas", "nicolas" }, { "Julien", "julien" },
	{ "Thomas", "thomas" }, { "Antoine", "antoine" }, { "Louis", "louis" },
	{ "Hugo", "hugo" }, { "Jérôme", "jerome" }, { "Éric", "eric" },
};
static const struct fname fr_fam[] = {
	F1("Martin", "martin"), F1("Bernard", "bernard"), F1("Dubois", "dubois"),
	F1("Thomas", "thomas"), F1("Robert", "robert"), F1("Richard", "richard"),
	F1("Petit", "petit"), F1("Durand", "durand"), F1("Leroy", "leroy"),
	F1("Moreau", "moreau"), F1("Simon", "simon"), F1("Laurent", "laurent"),
	F1("Lefèvre", "lefevre"), F1("Michel", "michel"), F1("Fournier", "fournier"),
	F1("Girard", "girard"), F1("Bonnet", "bonnet"), F1("Lemaître", "lemaitre"),
};
static const struct city fr_cities[] = {
	{ "Paris", "Île-de-France", 75001, 75020, NULL },
	{ "Lyon", "Auvergne-Rhône-Alpes", 69001, 69009, NULL },
	{ "Marseille", "Provence-Alpes-Côte d'Azur", 13001, 13016, NULL },
	{ "Toulouse", "Occitanie", 31000, 31500, NULL },
	{ "Lille", "Hauts-de-France", 59000, 59800, NULL },
};
static const char *const fr_streets[] = {
	"rue de la République", "avenue Victor Hugo", "boulevard Saint-Michel",
	"rue du Château", "place de la Mairie", "rue des Écoles", "allée des Tilleuls",
	"rue Pasteur",
};
static const char *const fr_domains[] = { "gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr" };
static const char *const fr_fmt[] = {
	"0# ## ## ## ##", "+33 # ## ## ## ##", "+33#########", "0#.##.##.##.##",
};

/* ------------------------------------------------------------------- Ukraine */
static const struct gname ua_f[] = {
	{ "Олена", "olena" }, { "Наталія", "nataliia" }, { "Оксана", "oksana" },
	{ "Тетяна", "tetiana" }, { "Юлія", "yuliia" }, { "Ірина", "iryna" },
	{ "Марія", "mariia" }, { "Світлана", "svitlana" }, { "Катерина", "kateryna" },
	{ "Анна", "anna" }, { "Галина", "halyna" }, { "Софія", "sofiia" },
};
static const struct gname ua_m[] = {
	{ "Олександр", "oleksandr" }, { "Андрій", "andrii" }, { "Іван", "ivan" },
	{ "Дмитро", "dmytro" }, { "Сергій", "serhii" }, { "Микола", "mykola" },
	{ "Тарас", "taras" }, { "Богдан", "bohdan" }, { "Юрій", "yurii" },
	{ "Василь", "vasyl" }, { "Олег", "oleh" }, { "Максим", "maksym" },
};
static const struct fname ua_fam[] = {
	F1("Іваненко", "ivanenko"), F1("Шевченко", "shevchenko"), F1("Бондаренко", "bondarenko"),
	F1("Коваленко", "kovalenko"), F1("Ткаченко", "tkachenko"), F1("Кравченко", "kravchenko"),
	F1("Мельник", "melnyk"), F1("Ковальчук", "kovalchuk"), F1("Бойко", "boiko"),
	F1("Савчук", "savchuk"), F1("Поліщук", "polishchuk"), F1("Лисенко", "lysenko"),
	F1("Марченко", "marchenko"), F1("Руденко", "rudenko"), F1("Олійник", "oliinyk"),
	{ "Ковальський", "Ковальська", "kovalskyi", "kovalska" },
	{ "Левицький", "Левицька", "levytskyi", "levytska" },
	{ "Яковлєв", "Яковлєва", "yakovliev", "yakovlieva" },
};
static const struct city ua_cities[] = {
	{ "Київ", "м. Київ", 1001, 4128, NULL },
	{ "Львів", "Львівська область", 79000, 79099, NULL },
	{ "Харків", "Харківська область", 61000, 61199, NULL },
	{ "Одеса", "Одеська область", 65000, 65125, NULL },
	{ "Дніпро", "Дніпропетровська область", 49000, 49128, NULL },
	{ "Вінниця", "Вінницька область", 21000, 21050, NULL },
};
static const char *const ua_streets[] = {
	"вул. Шевченка", "вул. Хрещатик", "просп. Перемоги", "вул. Івана Франка",
	"вул. Грушевського", "вул. Лесі Українки", "бульв. Дружби Народів", "вул. Садова",
};
static const char *const ua_domains[] = { "gmail.com", "ukr.net", "i.ua", "meta.ua", "outlook.com" };
static const char *const ua_prefixes[] = { "50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99" };
static const char *const ua_fmt[] = {
	"+380 ## ### ####", "0##-###-##-##", "+380#########", "(0##) ### ## ##",
};

/* -------------------------------------------------------------------- Greece */
static const struct gname gr_f[] = {
	{ "Μαρία", "maria" }, { "Ελένη", "eleni" }, { "Αικατερίνη", "aikaterini" },
	{ "Βασιλική", "vasiliki" }, { "Σοφία", "sofia" }, { "Αγγελική", "angeliki" },
	{ "Γεωργία", "georgia" }, { "Δήμητρα", "dimitra" }, { "Κωνσταντίνα", "konstantina" },
	{ "Παρασκευή", "paraskevi" }, { "Χριστίνα", "christina" }, { "Ειρήνη", "eirini" },
};
static const struct gname gr_m[] = {
	{ "Γιώργος", "giorgos" }, { "Δημήτρης", "dimitris" }, { "Κωνσταντίνος", "konstantinos" },
	{ "Νίκος", "nikos" }, { "Γιάννης", "giannis" }, { "Χρήστος", "christos" },
	{ "Παναγιώτης", "panagiotis" }, { "Βασίλης", "vasilis" }, { "Αθανάσιος", "athanasios" },
	{ "Μιχάλης", "michalis" }, { "Σπύρος", "spyros" }, { "Ευάγγελος", "evangelos" },
};
static const struct fname gr_fam[] = {
	{ "Παπαδόπουλος", "Παπαδοπούλου", "papadopoulos", "papadopoulou" },
	{ "Πετρόπουλος", "Πετροπούλου", "petropoulos", "petropoulou" },
	{ "Παπαδάκης", "Παπαδάκη", "papadakis", "papadaki" },
	{ "Καραγιάννης", "Καραγιάννη", "karagiannis", "karagianni" },
	{ "Μακρής", "Μακρή", "makris", "makri" },
	{ "Αλεξίου", "Αλεξίου", "alexiou", "alexiou" },
	F1("Παπαγεωργίου", "papageorgiou"), F1("Οικονόμου", "oikonomou"),
	F1("Γεωργίου", "georgiou"), F1("Νικολάου", "nikolaou"),
	F1("Βασιλείου", "vasileiou"), F1("Δημητρίου", "dimitriou"),
	F1("Ιωάννου", "ioannou"), F1("Κωνσταντίνου", "konstantinou"),
	F1("Αθανασίου", "athanasiou"), F1("Χριστοδούλου", "christodoulou"),
	F1("Αντωνίου", "antoniou"),
};
static const struct city gr_cities[] = {
	{ "Αθήνα", "Αττική", 10431, 11855, NULL },
	{ "Θεσσαλονίκη", "Κεντρική Μακεδονία", 54621, 56430, NULL },
	{ "Πάτρα", "Δυτική Ελλάδα", 26221, 26504, NULL },
	{ "Ηράκλειο", "Κρήτη", 71201, 71500, NULL },
	{ "Λάρισα", "Θεσσαλία", 41221, 41500, NULL },
};
static const char *const gr_streets[] = {
	"Ερμού", "Σταδίου", "Πανεπιστημίου", "Λεωφόρος Κηφισίας", "Αριστοτέλους",
	"Εγνατία", "Μητροπόλεως", "Αγίου Δημητρίου",
};
static const char *const gr_domains[] = { "gmail.com", "yahoo.gr", "hotmail.com", "otenet.gr", "outlook.com" };
static const char *const gr_prefixes[] = { "690", "693", "694", "695", "697", "698", "699" };
static const char *const gr_fmt[] = {
	"### ### ####", "+30 ### ### ####", "+30##########", "##########",
};

/* --------------------------------------------------------------------- China */
static const struct gname cn_f[] = {
	{ "芳", "fang" }, { "娜", "na" }, { "秀英", "xiuying" }, { "敏", "min" },
	{ "静", "jing" }, { "丽", "li" }, { "艳", "yan" }, { "娟", "juan" },
	{ "霞", "xia" }, { "婷", "ting" }, { "雪", "xue" }, { "欣怡", "xinyi" },
};
static const struct gname cn_m[] = {
	{ "伟", "wei" }, { "强", "qiang" }, { "磊", "lei" }, { "军", "jun" },
	{ "勇", "yong" }, { "杰", "jie" }, { "涛", "tao" }, { "明", "ming" },
	{ "超", "chao" }, { "浩然", "haoran" }, { "子轩", "zixuan" }, { "建华", "jianhua" },
};
static const struct fname cn_fam[] = {
	F1("王", "wang"), F1("李", "li"), F1("张", "zhang"), F1("刘", "liu"),
	F1("陈", "chen"), F1("杨", "yang"), F1("黄", "huang"), F1("赵", "zhao"),
	F1("吴", "wu"), F1("周", "zhou"), F1("徐", "xu"), F1("孙", "sun"),
	F1("马", "ma"), F1("朱", "zhu"), F1("胡", "hu"), F1("郭", "guo"),
	F1("何", "he"), F1("林", "lin"), F1("欧阳", "ouyang"),
};
static const struct city cn_cities[] = {
	{ "北京", "北京市", 100000, 102600, NULL },
	{ "上海", "上海市", 200000, 201900, NULL },
	{ "广州", "广东省", 510000, 511400, NULL },
	{ "深圳", "广东省", 518000, 518100, NULL },
	{ "成都", "四川省", 610000, 611700, NULL },
	{ "杭州", "浙江省", 310000, 311100, NULL },
};
static const char *const cn_streets[] = {
	"中山路", "人民路", "解放路", "建设路", "和平路", "长安街", "南京路", "学府路",
};
static const char *const cn_domains[] = { "qq.com", "163.com", "126.com", "sina.com", "gmail.com" };
static const char *const cn_prefixes[] = { "130", "135", "138", "139", "150", "158", "177", "186", "189", "199" };
static const char *const cn_fmt[] = {
	"### #### ####", "+86 ### #### ####", "+86###########", "###-####-####", "###########",
};

/* --------------------------------------------------------------------- Japan */
static const struct gname jp_f[] = {
	{ "陽子", "yoko" }, { "美咲", "misaki" }, { "さくら", "sakura" }, { "結衣", "yui" },
	{ "花子", "hanako" }, { "愛", "ai" }, { "由美", "yumi" }, { "恵子", "keiko" },
	{ "真由美", "mayumi" }, { "葵", "aoi" }, { "陽菜", "hina" }, { "奈々", "nana" },
};
static const struct gname jp_m[] = {
	{ "翔太", "shota" }, { "健太", "kenta" }, { "大輔", "daisuke" }, { "拓也", "takuya" },
	{ "蓮", "ren" }, { "悠真", "yuma" }, { "誠", "makoto" }, { "浩二", "koji" },
	{ "隆", "takashi" }, { "和也", "kazuya" }, { "直樹", "naoki" }, { "大翔", "hiroto" },
};
static const struct fname jp_fam[] = {
	F1("佐藤", "sato"), F1("鈴木", "suzuki"), F1("高橋", "takahashi"), F1("田中", "tanaka"),
	F1("伊藤", "ito"), F1("渡辺", "watanabe"), F1("山本", "yamamoto"), F1("中村", "nakamura"),
	F1("小林", "kobayashi"), F1("加藤", "kato"), F1("吉田", "yoshida"), F1("山田", "yamada"),
	F1("佐々木", "sasaki"), F1("松本", "matsumoto"), F1("井上", "inoue"),
};
static const struct city jp_cities[] = {
	{ "東京", "東京都", 1000001, 1998000, NULL },
	{ "大阪", "大阪府", 5300001, 5599000, NULL },
	{ "横浜", "神奈川県", 2200001, 2470000, NULL },
	{ "名古屋", "愛知県", 4500002, 4680000, NULL },
	{ "札幌", "北海道", 600001, 640000, NULL },
	{ "福岡", "福岡県", 8100001, 8190000, NULL },
};
static const char *const jp_streets[] = {
	"本町", "中央", "栄町", "緑町", "桜台", "旭町", "東町", "南町",
};
static const char *const jp_domains[] = { "gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com", "ezweb.ne.jp" };
static const char *const jp_prefixes[] = { "90", "80", "70" };
static const char *const jp_fmt[] = {
	"0##-####-####", "+81 ##-####-####", "+81##########", "0##########",
};

static const char *const us_prefixes[] = { "" };   /* the area code comes from the city */
static const char *const gb_prefixes[] = { "74", "75", "77", "78", "79" };
static const char *const de_prefixes[] = { "151", "152", "157", "160", "162", "170", "171", "172", "176", "177", "178", "179" };
static const char *const es_prefixes[] = { "6", "7" };
static const char *const fr_prefixes[] = { "6", "7" };

#define COUNTRY(code, share, script, dbl, p, len)                                    \
	{ code, share, script, dbl, p##_f, p##_m, N(p##_f), N(p##_m), p##_fam, N(p##_fam), \
	  p##_cities, N(p##_cities), p##_streets, N(p##_streets), p##_domains,          \
	  N(p##_domains), p##_prefixes, N(p##_prefixes), len, p##_fmt, N(p##_fmt) }

static const struct country countries[] = {
	COUNTRY("US", 0.13, SCRIPT_LATIN, 0, us, 10),
	COUNTRY("GB", 0.12, SCRIPT_LATIN, 0, gb, 10),
	COUNTRY("DE", 0.10, SCRIPT_LATIN, 0, de, 11),
	COUNTRY("ES", 0.09, SCRIPT_LATIN, 1, es, 9),
	COUNTRY("FR", 0.06, SCRIPT_LATIN, 0, fr, 9),
	COUNTRY("UA", 0.14, SCRIPT_CYRILLIC, 0, ua, 9),
	COUNTRY("GR", 0.10, SCRIPT_GREEK, 0, gr, 10),
	COUNTRY("CN", 0.14, SCRIPT_CJK, 0, cn, 11),
	COUNTRY("JP", 0.12, SCRIPT_CJK, 0, jp, 10),
};

size_t demo_n_countries(void)
{
	return N(countries);
}

const char *demo_country_code(int c)
{
	return countries[c].code;
}

int demo_country_script(int c)
{
	return countries[c].script;
}

double demo_country_share(int c)
{
	return countries[c].share;
}

const char *demo_city_name(int c, int city)
{
	return countries[c].cities[city].name;
}

const char *demo_city_region(int c, int city)
{
	return countries[c].cities[city].region;
}

static size_t pick(gsl_rng *rng, size_t n)
{
	return (size_t)gsl_rng_uniform_int(rng, (unsigned long)n);
}

static int pick_country(gsl_rng *rng)
{
	double u = gsl_rng_uniform(rng), acc = 0;
	for (size_t c = 0; c + 1 < N(countries); c++) {
		acc += countries[c].share;
		if (u < acc)
			return (int)c;
	}
	return (int)N(countries) - 1;
}

/* Appends the lower-case ASCII letters and digits of s to out. */
static void put_alnum(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);
	for (; *s && n + 1 < cap; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			out[n++] = *s;
	out[n] = '\0';
}

/* g and f: the Latin given and (first) family name. */
static void make_email(gsl_rng *rng, const struct country *c, const char *g, const char *f,
		       struct demo_identity *id)
{
	char local[96] = "";
	unsigned style = (unsigned)gsl_rng_uniform_int(rng, 6);
	if (c->script == SCRIPT_CJK && strcmp(c->code, "CN") == 0 && gsl_rng_uniform(rng) < 0.3) {
		/* QQ mail addresses are the account number */
		snprintf(id->email, sizeof id->email, "%lu@qq.com",
			 10000000UL + gsl_rng_uniform_int(rng, 2000000000UL));
		return;
	}
	switch (style) {
	case 0: put_alnum(local, sizeof local, g); strcat(local, "."); put_alnum(local, sizeof local, f); break;
	case 1: put_alnum(local, sizeof local, g); strcat(local, "_"); put_alnum(local, sizeof local, f); break;
	case 2: local[0] = g[0]; local[1] = '\0'; put_alnum(local, sizeof local, f); break;
	case 3: put_alnum(local, sizeof local, f); put_alnum(local, sizeof local, g); break;
	case 4: put_alnum(local, sizeof local, g); strcat(local, "."); put_alnum(local, sizeof local, f);
		snprintf(local + strlen(local), sizeof local - strlen(local), "%lu",
			 gsl_rng_uniform_int(rng, 100));
		break;
	default: put_alnum(local, sizeof local, g); put_alnum(local, sizeof local, f);
		snprintf(local + strlen(local), sizeof local - strlen(local), "%lu",
			 60 + gsl_rng_uniform_int(rng, 46));
		break;
	}
	/* the most used domain takes about half */
	size_t d = gsl_rng_uniform(rng) < 0.5 ? 0 : pick(rng, c->n_domains);
	snprintf(id->email, sizeof id->email, "%s@%s", local, c->domains[d]);
}

static void make_phone(gsl_rng *rng, const struct country *c, const struct city *city,
		       struct demo_identity *id)
{
	const char *pre = strcmp(c->code, "US") == 0 ? city->extra
		: c->phone_prefixes[pick(rng, c->n_phone_prefixes)];
	size_t n = strlen(pre);
	memcpy(id->phone, pre, n);
	for (int first = 1; n < (size_t)c->phone_len; n++, first = 0)
		id->phone[n] = (char)('0' + (first && strcmp(c->code, "US") == 0
					     ? 2 + gsl_rng_uniform_int(rng, 8)
					     : gsl_rng_uniform_int(rng, 10)));
	id->phone[n] = '\0';
	id->phone_fmt = (int)pick(rng, c->n_phone_formats);
}

static void make_address(gsl_rng *rng, const struct country *c, struct demo_identity *id)
{
	const char *st = c->streets[pick(rng, c->n_streets)];
	unsigned long no = 1 + gsl_rng_uniform_int(rng, 180);
	unsigned long flat = 1 + gsl_rng_uniform_int(rng, 60);
	int with_flat = gsl_rng_uniform(rng) < 0.4;
	const char *code = c->code;
	char *a = id->address;
	size_t cap = sizeof id->address;
	if (strcmp(code, "US") == 0) {
		if (with_flat)
			snprintf(a, cap, "%lu %s, Apt %lu", no, st, flat);
		else
			snprintf(a, cap, "%lu %s", no, st);
	} else if (strcmp(code, "GB") == 0) {
		if (with_flat)
			snprintf(a, cap, "Flat %lu, %lu %s", flat % 12 + 1, no, st);
		else
			snprintf(a, cap, "%lu %s", no, st);
	} else if (strcmp(code, "FR") == 0) {
		snprintf(a, cap, "%lu %s", no, st);
	} else if (strcmp(code, "ES") == 0) {
		snprintf(a, cap, "%s %lu, %lu\xc2\xba %c", st, no, flat % 8 + 1,
			 (char)('A' + gsl_rng_uniform_int(rng, 4)));
	} else if (strcmp(code, "UA") == 0) {
		if (with_flat)
			snprintf(a, cap, "%s, %lu, кв. %lu", st, no, flat);
		else
			snprintf(a, cap, "%s, %lu", st, no);
	} else if (strcmp(code, "CN") == 0) {
		snprintf(a, cap, "%s%lu号%lu栋%lu室", st, no, flat % 20 + 1,
			 100 * (flat % 30 + 1) + 1 + gsl_rng_uniform_int(rng, 6));
	} else if (strcmp(code, "JP") == 0) {
		snprintf(a, cap, "%s%lu丁目%lu-%lu", st, no % 9 + 1, flat % 30 + 1,
			 1 + gsl_rng_uniform_int(rng, 20));
	} else { /* DE, GR: street then number */
		snprintf(a, cap, "%s %lu", st, no);
	}
}

static void make_postcode(gsl_rng *rng, const struct country *c, const struct city *city,
			  struct demo_identity *id)
{
	char *p = id->postcode;
	size_t cap = sizeof id->postcode;
	if (strcmp(c->code, "GB") == 0) {
		/* outward code of the city, then a digit and two letters */
		static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
		const char *codes = city->extra;
		size_t n_codes = 1;
		for (const char *s = codes; *s; s++)
			n_codes += *s == ' ';
		size_t k = pick(rng, n_codes);
		const char *s = codes;
		while (k--)
			s = strchr(s, ' ') + 1;
		size_t len = strcspn(s, " ");
		snprintf(p, cap, "%.*s %lu%c%c", (int)len, s, gsl_rng_uniform_int(rng, 10),
			 letters[pick(rng, sizeof letters - 1)], letters[pick(rng, sizeof letters - 1)]);
		return;
	}
	/* ranges are below 10^7, so the parts fit their widths */
	unsigned v = (unsigned)city->lo + (unsigned)gsl_rng_uniform_int(rng, (unsigned long)(city->hi - city->lo + 1));
	v %= 10000000u;
	if (strcmp(c->code, "GR") == 0)
		snprintf(p, cap, "%03u %02u", v / 100 % 1000, v % 100);
	else if (strcmp(c->code, "JP") == 0)
		snprintf(p, cap, "%03u-%04u", v / 10000 % 1000, v % 10000);
	else if (strcmp(c->code, "CN") == 0)
		snprintf(p, cap, "%06u", v % 1000000);
	else
		snprintf(p, cap, "%05u", v % 100000);
}

void demo_identity_make(gsl_rng *rng, struct demo_identity *id)
{
	int ci = pick_country(rng);
	const struct country *c = &countries[ci];
	id->country = ci;
	id->gender = gsl_rng_uniform(rng) < 0.52 ? 0 : 1;
	const struct gname *g = id->gender == 0 ? &c->given_f[pick(rng, c->n_given_f)]
						: &c->given_m[pick(rng, c->n_given_m)];
	const struct fname *f = &c->family[pick(rng, c->n_family)];
	snprintf(id->given, sizeof id->given, "%s", g->native);
	snprintf(id->given_lat, sizeof id->given_lat, "%s", g->lat);
	const char *fam = id->gender == 0 ? f->f : f->m;
	const char *fam_lat = id->gender == 0 ? f->lat_f : f->lat_m;
	if (c->double_family) {
		/* Spanish: father's and mother's first family names */
		const struct fname *f2 = &c->family[pick(rng, c->n_family)];
		snprintf(id->family, sizeof id->family, "%s %s", fam, f2->m);
		snprintf(id->family_lat, sizeof id->family_lat, "%s %s", fam_lat, f2->lat_m);
	} else {
		snprintf(id->family, sizeof id->family, "%s", fam);
		snprintf(id->family_lat, sizeof id->family_lat, "%s", fam_lat);
	}
	id->city = (int)pick(rng, c->n_cities);
	const struct city *city = &c->cities[id->city];
	/* the e-mail uses the first family name only */
	char first_fam[128];
	snprintf(first_fam, sizeof first_fam, "%s", id->family_lat);
	first_fam[strcspn(first_fam, " ")] = '\0';
	make_email(rng, c, id->given_lat, first_fam, id);
	make_phone(rng, c, city, id);
	make_address(rng, c, id);
	make_postcode(rng, c, city, id);
}

int demo_phone_n_formats(int country)
{
	return (int)countries[country].n_phone_formats;
}

size_t demo_phone_write(int country, const char *digits, int fmt, char *out, size_t cap)
{
	const char *t = countries[country].phone_formats[fmt];
	size_t n = 0;
	for (; *t && n + 1 < cap; t++) {
		if (*t == '#')
			out[n++] = *digits ? *digits++ : '0';
		else
			out[n++] = *t;
	}
	out[n] = '\0';
	return n;
}

void demo_name_join(int country, const char *given, const char *family, int swapped,
		    char *out, size_t cap)
{
	int cjk = countries[country].script == SCRIPT_CJK;
	const char *first = cjk ? family : given, *second = cjk ? given : family;
	if (swapped) {
		const char *t = first;
		first = second;
		second = t;
	}
	snprintf(out, cap, cjk ? "%s%s" : "%s %s", first, second);
}

/* Accented letters used above and their plain forms (UTF-8). */
static const struct { const char *from, *to; } accents[] = {
	{ "á", "a" }, { "é", "e" }, { "í", "i" }, { "ó", "o" }, { "ú", "u" },
	{ "Á", "A" }, { "É", "E" }, { "Í", "I" }, { "Ó", "O" }, { "Ú", "U" },
	{ "à", "a" }, { "è", "e" }, { "ì", "i" }, { "ò", "o" }, { "ù", "u" },
	{ "â", "a" }, { "ê", "e" }, { "î", "i" }, { "ô", "o" }, { "û", "u" },
	{ "ä", "a" }, { "ë", "e" }, { "ï", "i" }, { "ö", "o" }, { "ü", "u" },
	{ "Ä", "A" }, { "Ö", "O" }, { "Ü", "U" }, { "ñ", "n" }, { "ç", "c" },
	{ "ά", "α" }, { "έ", "ε" }, { "ή", "η" }, { "ί", "ι" }, { "ό", "ο" },
	{ "ύ", "υ" }, { "ώ", "ω" }, { "Ά", "Α" }, { "Έ", "Ε" }, { "Ή", "Η" },
	{ "Ί", "Ι" }, { "Ό", "Ο" }, { "Ύ", "Υ" }, { "Ώ", "Ω" },
};

int demo_strip_accents(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	int changed = 0;
	while (*s && n + 1 < cap) {
		size_t k, len = 0;
		for (k = 0; k < N(accents); k++) {
			len = strlen(accents[k].from);
			if (strncmp(s, accents[k].from, len) == 0)
				break;
		}
		if (k < N(accents)) {
			size_t tl = strlen(accents[k].to);
			if (n + tl + 1 > cap)
				break;
			memcpy(out + n, accents[k].to, tl);
			n += tl;
			s += len;
			changed = 1;
		} else {
			/* copy one whole UTF-8 character */
			size_t cl = 1;
			unsigned char b = (unsigned char)*s;
			if (b >= 0xF0)
				cl = 4;
			else if (b >= 0xE0)
				cl = 3;
			else if (b >= 0xC0)
				cl = 2;
			if (n + cl + 1 > cap)
				break;
			for (size_t i = 0; i < cl && s[i]; i++)
				out[n++] = s[i];
			s += cl;
		}
	}
	out[n] = '\0';
	return changed;
}

static const char *const posts_ua[2][4] = {
	{ "Посилка прийшла пошкоджена, дуже розчарована", "Доставка знову затримується, жахливо",
	  "Повернення грошей триває вже місяць", "Якість погана, не рекомендую" },
	{ "Дякую за швидку доставку!", "Чудова якість, рекомендую", "Дуже задоволена покупкою",
	  "Найкращий магазин, все супер" },
};
static const char *const posts_gr[2][4] = {
	{ "Το δέμα ήρθε χαλασμένο, πολύ απογοητευμένη", "Η παράδοση άργησε πάλι, απαράδεκτο",
	  "Κακή ποιότητα, δεν το προτείνω", "Περιμένω ακόμα την επιστροφή χρημάτων" },
	{ "Τέλεια εξυπηρέτηση, ευχαριστώ!", "Γρήγορη παράδοση και εξαιρετική ποιότητα",
	  "Πολύ ευχαριστημένος με την αγορά", "Το καλύτερο κατάστημα" },
};
static const char *const posts_cn[2][4] = {
	{ "包裹破损，非常失望", "物流太慢了，很差", "质量不好，不推荐", "退款一个月还没到" },
	{ "质量很好，物流很快", "非常满意，推荐购买", "客服很好，谢谢", "好评！会再来买" },
};
static const char *const posts_jp[2][4] = {
	{ "荷物が壊れていて残念です", "配送が遅すぎる", "品質が悪い、おすすめしません",
	  "返金がまだありません" },
	{ "とても良かったです", "配送が早くて満足です", "品質が最高、また買います",
	  "対応が丁寧でした、ありがとう" },
};

const char *demo_native_post(gsl_rng *rng, int country, int positive)
{
	const char *code = countries[country].code;
	int k = positive > 0;
	size_t i = pick(rng, 4);
	if (strcmp(code, "UA") == 0)
		return posts_ua[k][i];
	if (strcmp(code, "GR") == 0)
		return posts_gr[k][i];
	if (strcmp(code, "CN") == 0)
		return posts_cn[k][i];
	if (strcmp(code, "JP") == 0)
		return posts_jp[k][i];
	return NULL;
}
