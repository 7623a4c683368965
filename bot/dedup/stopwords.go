package dedup

// stopWords is the Snowball English stop-word list, its contractions written
// without apostrophes (Tokenize removes them), and chat filler that says
// nothing about what is asked ("hi", "thanks", "please").
var stopWords = func() map[string]struct{} {
	words := []string{
		// Snowball English.
		"a", "about", "above", "after", "again", "against", "all", "am", "an",
		"and", "any", "are", "as", "at", "be", "because", "been", "before",
		"being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
		"does", "doing", "down", "during", "each", "few", "for", "from",
		"further", "had", "has", "have", "having", "he", "her", "here", "hers",
		"herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
		"it", "its", "itself", "just", "me", "more", "most", "my", "myself",
		"no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
		"other", "ought", "our", "ours", "ourselves", "out", "over", "own", "same",
		"she", "should", "so", "some", "such", "than", "that", "the", "their",
		"theirs", "them", "themselves", "then", "there", "these", "they",
		"this", "those", "through", "to", "too", "under", "until", "up",
		"very", "was", "we", "were", "what", "when", "where", "which", "while",
		"who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
		"yourselves",
		// Contractions without apostrophes.
		"arent", "cant", "cannot", "couldnt", "didnt", "doesnt", "dont", "hadnt",
		"hasnt", "havent", "hed", "hell", "hes", "id", "ill", "im", "ive", "isnt",
		"its", "lets", "mustnt", "shant", "shed", "shes", "shouldnt", "thats",
		"theres", "theyd", "theyll", "theyre", "theyve", "wasnt", "wed", "well",
		"were", "weve", "werent", "whats", "wheres", "whos", "wont", "wouldnt",
		"youd", "youll", "youre", "youve", "don", "doesn", "didn", "isn", "wasn",
		"aren", "couldn", "shouldn", "wouldn", "won", "ve", "ll", "re",
		// Chat filler.
		"hi", "hello", "hey", "dear", "thanks", "thank", "thx", "pls", "plz",
		"please", "regards", "cheers", "guys", "everyone", "everybody", "anyone",
		"anybody", "someone", "somebody", "also", "get", "got", "would", "like",
		"know", "want", "need", "one", "ok", "okay", "etc", "eg", "ie", "via",
		"us", "may", "might", "must", "shall", "let", "lol",
	}
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}()

// maxStopWordLen is the length of the longest stop word: a longer word
// is none.
var maxStopWordLen = func() int {
	n := 0
	for w := range stopWords {
		n = max(n, len(w))
	}
	return n
}()

// stopEnds has, per length up to maxStopWordLen, a bit for the first
// letter (in the low 32 bits) and one for the last letter (in the high
// 32) of each stop word of that length (stopBit): a word whose bits are
// not both there is no stop word (mayBeStopWord).
var stopEnds = func() []uint64 {
	t := make([]uint64, maxStopWordLen+1)
	for w := range stopWords {
		t[len(w)] |= 1<<stopBit(w[0]) | 1<<(32+stopBit(w[len(w)-1]))
	}
	return t
}()

// stopBit is the bit of byte c in stopEnds: a-z, else 31.
func stopBit(c byte) uint {
	if c >= 'a' && c <= 'z' {
		return uint(c - 'a')
	}
	return 31
}

// mayBeStopWord is false when w is no stop word by its length, first and
// last letters (stopEnds); when true, w may be one.
func mayBeStopWord(w []byte) bool {
	if len(w) == 0 || len(w) > maxStopWordLen {
		return false // no stop word is empty
	}
	want := uint64(1)<<stopBit(w[0]) | uint64(1)<<(32+stopBit(w[len(w)-1]))
	return stopEnds[len(w)]&want == want
}

func isStopWord(w string) bool {
	_, ok := stopWords[w]
	return ok
}
