package container

// adjectives and surnames feed GenerateName. The surnames are of notable
// scientists, mathematicians and engineers.
var adjectives = []string{
	"agile", "amazing", "ample", "ardent", "awake", "balanced", "bold", "boring",
	"brave", "breezy", "bright", "busy", "calm", "candid", "careful", "charming",
	"cheerful", "clever", "cosmic", "crisp", "curious", "daring", "dazzling", "eager",
	"earnest", "elated", "elegant", "epic", "fearless", "fervent", "festive", "focused",
	"friendly", "gallant", "gentle", "gifted", "glowing", "graceful", "happy", "hardy",
	"honest", "hopeful", "humble", "jolly", "jovial", "keen", "kind", "lively",
	"loyal", "lucid", "merry", "mellow", "modest", "nimble", "noble", "patient",
	"peaceful", "placid", "plucky", "polite", "quick", "quiet", "radiant", "serene",
	"sharp", "sincere", "snappy", "steady", "stoic", "sunny", "tender", "tidy",
	"trusty", "upbeat", "valiant", "vibrant", "vivid", "wise", "witty", "zealous",
}

var surnames = []string{
	"agnesi", "khwarizmi", "archimedes", "babbage", "backus", "bardeen", "bell", "bohr",
	"boole", "bose", "brahmagupta", "cantor", "carver", "cauchy", "cerf", "chandrasekhar",
	"conway", "copernicus", "cori", "crick", "curie", "darwin", "dijkstra", "dirac",
	"edison", "einstein", "euclid", "euler", "faraday", "fermat", "fermi", "feynman",
	"fibonacci", "franklin", "galileo", "galois", "gauss", "germain", "goodall", "hamilton",
	"hawking", "heisenberg", "hertz", "hilbert", "hodgkin", "hopper", "hubble", "huygens",
	"hypatia", "jackson", "jemison", "johnson", "joule", "kelvin", "kepler", "khorana",
	"knuth", "kovalevskaya", "lamarr", "laplace", "lavoisier", "leavitt", "leibniz", "lovelace",
	"mayer", "maxwell", "mcclintock", "meitner", "mendel", "mendeleev", "mirzakhani", "moore",
	"morse", "napier", "newton", "nobel", "noether", "ohm", "pascal", "pasteur",
	"pauli", "planck", "poincare", "ramanujan", "raman", "riemann", "ritchie", "rutherford",
	"sagan", "salk", "shannon", "somerville", "stallman", "tesla", "thompson", "torvalds",
	"turing", "volta", "wiles", "wozniak", "wu", "yalow",
}
