// names.hpp: the name docker-run gives a container run without --name, as Docker does:
// "adjective_surname" (moby's pkg/namesgenerator: an adjective and a notable scientist or
// hacker), so that every container has a name to find it by in ps, logs, inspect, rm.
#ifndef DOCKER_RUN_NAMES_HPP
#define DOCKER_RUN_NAMES_HPP

#include <random>
#include <string>

namespace names {

inline const char *const ADJECTIVES[] = {
    "admiring",   "adoring",     "affectionate", "agitated",   "amazing",    "angry",      "awesome",
    "beautiful",  "blissful",    "bold",         "brave",      "busy",       "charming",   "clever",
    "compassionate", "competent", "condescending", "confident", "cool",      "cranky",     "crazy",
    "dazzling",   "determined",  "distracted",   "dreamy",     "eager",      "ecstatic",   "elastic",
    "elated",     "elegant",     "eloquent",     "epic",       "exciting",   "fervent",    "festive",
    "flamboyant", "focused",     "friendly",     "frosty",     "funny",      "gallant",    "gifted",
    "goofy",      "gracious",    "great",        "happy",      "hardcore",   "heuristic",  "hopeful",
    "hungry",     "infallible",  "inspiring",    "intelligent", "interesting", "jolly",    "jovial",
    "keen",       "kind",        "laughing",     "loving",     "lucid",      "magical",    "modest",
    "musing",     "mystifying",  "naughty",      "nervous",    "nice",       "nifty",      "nostalgic",
    "objective",  "optimistic",  "peaceful",     "pedantic",   "pensive",    "practical",  "priceless",
    "quirky",     "quizzical",   "recursing",    "relaxed",    "reverent",   "romantic",   "sad",
    "serene",     "sharp",       "silly",        "sleepy",     "stoic",      "strange",    "stupefied",
    "suspicious", "sweet",       "tender",       "thirsty",    "trusting",   "unruffled",  "upbeat",
    "vibrant",    "vigilant",    "vigorous",     "wizardly",   "wonderful",  "xenodochial", "youthful",
    "zealous",    "zen",
};

inline const char *const SURNAMES[] = {
    "agnesi",     "albattani",   "allen",        "almeida",    "antonelli",  "archimedes", "ardinghelli",
    "aryabhata",  "austin",      "babbage",      "banach",     "banzai",     "bardeen",    "bartik",
    "bassi",      "beaver",      "bell",         "benz",       "bhabha",     "bhaskara",   "black",
    "blackburn",  "blackwell",   "bohr",         "booth",      "borg",       "bose",       "bouman",
    "boyd",       "brahmagupta", "brattain",     "brown",      "buck",       "burnell",    "cannon",
    "carson",     "cartwright",  "carver",       "cerf",       "chandrasekhar", "chaplygin", "chatelet",
    "chatterjee", "chaum",       "chebyshev",    "clarke",     "cohen",      "colden",     "cori",
    "cray",       "curie",       "curran",       "darwin",     "davinci",    "dewdney",    "dhawan",
    "diffie",     "dijkstra",    "dirac",        "driscoll",   "dubinsky",   "easley",     "edison",
    "einstein",   "elbakyan",    "elgamal",      "elion",      "ellis",      "engelbart",  "euclid",
    "euler",      "faraday",     "feistel",      "fermat",     "fermi",      "feynman",    "franklin",
    "gagarin",    "galileo",     "galois",       "ganguly",    "gates",      "gauss",      "germain",
    "goldberg",   "goldstine",   "goldwasser",   "golick",     "goodall",    "gould",      "greider",
    "grothendieck", "haibt",     "hamilton",     "haslett",    "hawking",    "heisenberg", "hellman",
    "hermann",    "herschel",    "hertz",        "heyrovsky",  "hodgkin",    "hofstadter", "hoover",
    "hopper",     "hugle",       "hypatia",      "ishizaka",   "jackson",    "jang",       "jemison",
    "jennings",   "jepsen",      "johnson",      "joliot",     "jones",      "kalam",      "kapitsa",
    "kare",       "keldysh",     "keller",       "kepler",     "khayyam",    "khorana",    "kilby",
    "kirch",      "knuth",       "kowalevski",   "lalande",    "lamarr",     "lamport",    "leakey",
    "leavitt",    "lederberg",   "lehmann",      "lewin",      "lichterman", "liskov",     "lovelace",
    "lumiere",    "mahavira",    "margulis",     "matsumoto",  "maxwell",    "mayer",      "mccarthy",
    "mcclintock", "mclaren",     "mclean",       "mcnulty",    "meitner",    "mendel",     "mendeleev",
    "meninsky",   "merkle",      "mestorf",      "mirzakhani", "montalcini", "moore",      "morse",
    "moser",      "murdock",     "napier",       "nash",       "neumann",    "newton",     "nightingale",
    "nobel",      "noether",     "northcutt",    "noyce",      "panini",     "pare",       "pascal",
    "pasteur",    "payne",       "perlman",      "pike",       "poincare",   "poitras",    "proskuriakova",
    "ptolemy",    "raman",       "ramanujan",    "rhodes",     "ride",       "ritchie",    "robinson",
    "roentgen",   "rosalind",    "rubin",        "saha",       "sammet",     "sanderson",  "satoshi",
    "shamir",     "shannon",     "shaw",         "shirley",    "shockley",   "shtern",     "sinoussi",
    "snyder",     "solomon",     "spence",       "stonebraker", "sutherland", "swanson",   "swartz",
    "swirles",    "taussig",     "tereshkova",   "tesla",      "tharp",      "thompson",   "torvalds",
    "tu",         "turing",      "varahamihira", "vaughan",    "villani",    "visvesvaraya", "volhard",
    "wescoff",    "wilbur",      "wiles",        "williams",   "williamson", "wilson",     "wing",
    "wozniak",    "wright",      "wu",           "yalow",      "yonath",     "zhukovsky",
};

// A random "adjective_surname"; with `retry` > 0 a digit is appended, as Docker does after a
// name it drew was taken.
inline std::string generate(unsigned retry = 0) {
    static std::mt19937 rng{std::random_device{}()};
    constexpr size_t NA = sizeof ADJECTIVES / sizeof ADJECTIVES[0];
    constexpr size_t NS = sizeof SURNAMES / sizeof SURNAMES[0];
    std::uniform_int_distribution<size_t> adj(0, NA - 1), sur(0, NS - 1), digit(0, 9);
    std::string name = std::string(ADJECTIVES[adj(rng)]) + "_" + SURNAMES[sur(rng)];
    if (retry > 0) name += std::to_string(digit(rng));
    return name;
}

} // namespace names

#endif // DOCKER_RUN_NAMES_HPP
