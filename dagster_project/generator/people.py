"""People of the synthetic shop: names, e-mails, phone numbers and free text per market and language.

Names and texts are written in each language's own script (Cyrillic for
Bulgarian and Russian, Han characters for Chinese, Latvian and Polish
diacritics, German umlauts) so that the pipeline meets real-world Unicode.
Phone numbers are valid for their country (libphonenumber's rules, checked by
the tests) and written the way people type them: international with spaces,
national with a trunk prefix, compact E.164, ``00`` prefixes, dashes. The
warehouse must normalise them to E.164 before matching callers to contacts.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cache

import phonenumbers

# --- Markets -----------------------------------------------------------------


@dataclass(frozen=True)
class Market:
    """One country the shop sells to."""

    code: str
    languages: tuple[tuple[str, float], ...]  # language -> share of the market's customers
    time_zones: tuple[tuple[str, float], ...]  # IANA zone -> share (devices and callers)
    email_domains: tuple[str, ...]
    mobile: tuple[str, ...]  # national-number prefixes of mobile numbers
    mobile_length: int | dict[str, int]  # national significant number length (per prefix when it varies)
    landline: tuple[str, ...] = ()
    landline_length: int = 0


MARKETS: dict[str, Market] = {
    "BG": Market(
        "BG",
        (("bg", 0.97), ("en", 0.03)),
        (("Europe/Sofia", 1.0),),
        ("abv.bg", "gmail.com", "mail.bg", "yahoo.com"),
        ("87", "88", "89", "98"),
        9,
        ("2",),
        8,
    ),
    "CN": Market(
        "CN",
        (("zh", 1.0),),
        (("Asia/Shanghai", 1.0),),
        ("qq.com", "163.com", "126.com", "sina.com"),
        ("130", "131", "135", "136", "138", "139", "150", "151", "158", "180", "186", "188"),
        11,
    ),
    "LV": Market(
        "LV",
        (("lv", 0.68), ("ru", 0.3), ("en", 0.02)),
        (("Europe/Riga", 1.0),),
        ("inbox.lv", "gmail.com", "apollo.lv", "outlook.com"),
        ("20", "21", "22", "24", "25", "26", "27", "28", "29"),
        8,
        ("67",),
        8,
    ),
    "RU": Market(
        "RU",
        (("ru", 1.0),),
        (("Europe/Moscow", 0.72), ("Asia/Yekaterinburg", 0.16), ("Asia/Novosibirsk", 0.12)),
        ("mail.ru", "yandex.ru", "gmail.com", "rambler.ru"),
        ("915", "916", "903", "926", "985", "999", "912"),
        10,
        ("495", "499"),
        10,
    ),
    "PL": Market(
        "PL",
        (("pl", 0.97), ("en", 0.03)),
        (("Europe/Warsaw", 1.0),),
        ("wp.pl", "o2.pl", "gmail.com", "onet.pl", "interia.pl"),
        ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"),
        9,
        ("22", "12", "58"),
        9,
    ),
    "DE": Market(
        "DE",
        (("de", 0.88), ("en", 0.05), ("pl", 0.04), ("ru", 0.03)),
        (("Europe/Berlin", 1.0),),
        ("web.de", "gmx.de", "gmail.com", "t-online.de"),
        ("151", "152", "160", "170", "171", "176"),
        {"151": 11, "152": 11, "160": 10, "170": 10, "171": 10, "176": 11},
        ("30", "89"),
        10,
    ),
    "US": Market(
        "US",
        (("en", 0.95), ("zh", 0.03), ("ru", 0.02)),
        (("America/New_York", 0.5), ("America/Chicago", 0.25), ("America/Los_Angeles", 0.25)),
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        ("212", "310", "415", "312", "617", "206", "512", "305"),
        10,
    ),
}

# hs_language as HubSpot writes it; review language as ISO 639-1.
HS_LANGUAGE: dict[str, str] = {"zh": "zh-cn"}
LANDLINE_SHARE = 0.15

# --- Names -------------------------------------------------------------------

# language -> (female first names, male first names, (male surname, female surname) pairs).
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "bg": (
        ("Мария", "Иванка", "Елена", "Десислава", "Гергана", "Николета", "Петя", "Радослава", "Цветелина", "Йорданка"),
        ("Георги", "Иван", "Димитър", "Николай", "Христо", "Стоян", "Петър", "Тодор", "Васил", "Калоян"),
        (
            ("Петров", "Петрова"),
            ("Иванов", "Иванова"),
            ("Георгиев", "Георгиева"),
            ("Димитров", "Димитрова"),
            ("Стоянов", "Стоянова"),
            ("Николов", "Николова"),
            ("Христов", "Христова"),
            ("Тодоров", "Тодорова"),
            ("Василев", "Василева"),
            ("Атанасов", "Атанасова"),
        ),
    ),
    "ru": (
        ("Анна", "Ольга", "Татьяна", "Екатерина", "Наталья", "Ирина", "Светлана", "Юлия", "Мария", "Алёна"),
        ("Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Иван", "Владимир", "Николай", "Павел", "Артём"),
        (
            ("Иванов", "Иванова"),
            ("Смирнов", "Смирнова"),
            ("Кузнецов", "Кузнецова"),
            ("Попов", "Попова"),
            ("Соколов", "Соколова"),
            ("Лебедев", "Лебедева"),
            ("Козлов", "Козлова"),
            ("Новиков", "Новикова"),
            ("Морозов", "Морозова"),
            ("Волков", "Волкова"),
        ),
    ),
    "zh": (
        ("芳", "娜", "敏", "静", "丽", "婷", "秀英", "雪"),
        ("伟", "强", "磊", "军", "洋", "勇", "杰", "浩"),
        (
            ("王", "王"),
            ("李", "李"),
            ("张", "张"),
            ("刘", "刘"),
            ("陈", "陈"),
            ("杨", "杨"),
            ("黄", "黄"),
            ("赵", "赵"),
            ("吴", "吴"),
            ("周", "周"),
        ),
    ),
    "lv": (
        ("Anna", "Līga", "Inese", "Kristīne", "Ilze", "Laura", "Dace", "Elīna", "Zane", "Santa"),
        ("Jānis", "Andris", "Mārtiņš", "Edgars", "Kārlis", "Roberts", "Artūrs", "Māris", "Raimonds", "Guntis"),
        (
            ("Bērziņš", "Bērziņa"),
            ("Kalniņš", "Kalniņa"),
            ("Ozoliņš", "Ozoliņa"),
            ("Jansons", "Jansone"),
            ("Liepiņš", "Liepiņa"),
            ("Krūmiņš", "Krūmiņa"),
            ("Balodis", "Balode"),
            ("Zariņš", "Zariņa"),
            ("Pētersons", "Pētersone"),
            ("Vītols", "Vītola"),
        ),
    ),
    "pl": (
        ("Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Joanna", "Zofia", "Magdalena", "Ewa", "Aleksandra", "Żaneta"),
        ("Piotr", "Krzysztof", "Tomasz", "Paweł", "Łukasz", "Michał", "Jakub", "Marcin", "Grzegorz", "Wojciech"),
        (
            ("Nowak", "Nowak"),
            ("Kowalski", "Kowalska"),
            ("Wiśniewski", "Wiśniewska"),
            ("Wójcik", "Wójcik"),
            ("Kowalczyk", "Kowalczyk"),
            ("Kamiński", "Kamińska"),
            ("Lewandowski", "Lewandowska"),
            ("Zieliński", "Zielińska"),
            ("Szymański", "Szymańska"),
            ("Dąbrowski", "Dąbrowska"),
        ),
    ),
    "de": (
        ("Anna", "Lena", "Sophie", "Katrin", "Julia", "Sabine", "Birgit", "Ursula", "Charlotte", "Jana"),
        ("Lukas", "Jürgen", "Matthias", "Stefan", "Thomas", "Jörg", "Felix", "Maximilian", "Andreas", "Uwe"),
        (
            ("Müller", "Müller"),
            ("Schmidt", "Schmidt"),
            ("Schneider", "Schneider"),
            ("Fischer", "Fischer"),
            ("Weber", "Weber"),
            ("Meyer", "Meyer"),
            ("Wagner", "Wagner"),
            ("Becker", "Becker"),
            ("Schäfer", "Schäfer"),
            ("Groß", "Groß"),
        ),
    ),
    "en": (
        ("Emily", "Sarah", "Jessica", "Ashley", "Olivia", "Megan", "Hannah", "Rachel", "Lauren", "Emma"),
        ("Michael", "James", "Robert", "David", "Daniel", "Christopher", "Matthew", "Joshua", "Andrew", "Ryan"),
        (
            ("Smith", "Smith"),
            ("Johnson", "Johnson"),
            ("Williams", "Williams"),
            ("Brown", "Brown"),
            ("Jones", "Jones"),
            ("Garcia", "Garcia"),
            ("Miller", "Miller"),
            ("Davis", "Davis"),
            ("Rodriguez", "Rodriguez"),
            ("Martinez", "Martinez"),
        ),
    ),
}

# Pinyin of the Chinese names above (for e-mail addresses).
_PINYIN: dict[str, str] = {
    "芳": "fang",
    "娜": "na",
    "敏": "min",
    "静": "jing",
    "丽": "li",
    "婷": "ting",
    "秀英": "xiuying",
    "雪": "xue",
    "伟": "wei",
    "强": "qiang",
    "磊": "lei",
    "军": "jun",
    "洋": "yang",
    "勇": "yong",
    "杰": "jie",
    "浩": "hao",
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "吴": "wu",
    "周": "zhou",
}

# Cyrillic -> Latin, Bulgarian streamlined system and a simple Russian scheme.
_CYR_COMMON = dict(zip("абвгдезиклмнопрстуфы", "abvgdeziklmnoprstufy", strict=True))
_CYR_BG = _CYR_COMMON | {
    "ж": "zh",
    "й": "y",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sht",
    "ъ": "a",
    "ь": "y",
    "ю": "yu",
    "я": "ya",
    "ё": "yo",
    "э": "e",
}
_CYR_RU = _CYR_COMMON | {
    "ж": "zh",
    "й": "y",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ь": "",
    "ю": "yu",
    "я": "ya",
    "ё": "e",
    "э": "e",
}
_LATIN_SPECIAL = {"ł": "l", "ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue"}


@cache
def ascii_name(name: str, language: str) -> str:
    """An ASCII, lower-case rendering of a name, as people put it in e-mail addresses."""
    text = name.lower()
    if language == "zh":
        return _PINYIN.get(name, "user")
    if language in ("bg", "ru"):
        table = _CYR_BG if language == "bg" else _CYR_RU
        return "".join(table.get(ch, ch) for ch in text)
    text = "".join(_LATIN_SPECIAL.get(ch, ch) for ch in text)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    first_ascii: str
    last_ascii: str


def draw_person(rng: random.Random, language: str) -> Person:
    female_first, male_first, surnames = _NAMES[language]
    pair = surnames[int(rng.random() * len(surnames))]
    if rng.random() < 0.5:
        first, last = female_first[int(rng.random() * len(female_first))], pair[1]
    else:
        first, last = male_first[int(rng.random() * len(male_first))], pair[0]
    return Person(first, last, ascii_name(first, language), ascii_name(last, language))


def display_name(person: Person) -> str:
    """A reviewer's public name: "Ana P." (Chinese: surname and given name, as written)."""
    if person.first_ascii and not person.first.isascii() and len(person.first) <= 2 and len(person.last) == 1:
        return person.last + person.first
    return f"{person.first} {person.last[0]}."


def email_address(rng: random.Random, person: Person, number: int, domains: tuple[str, ...]) -> str:
    """A unique (by ``number``) lower-case address in one of the common local-part styles."""
    domain = domains[int(rng.random() * len(domains))]
    style = int(rng.random() * 5)
    f, last = person.first_ascii or "user", person.last_ascii or "x"
    if domain in ("qq.com", "163.com") and style < 2:
        return f"{number + 10_000_000}@{domain}"
    local = (
        f"{f}.{last}{number}",
        f"{f}{last}{number}",
        f"{f[0]}{last}{number}",
        f"{last}.{f}{number}",
        f"{f}_{number}",
    )[style]
    return f"{local}@{domain}"


def crm_email(rng: random.Random, email: str) -> str:
    """How the address sits in the CRM: mostly as typed (lower case), sometimes capitalised or padded."""
    u = rng.random()
    if u < 0.18:
        local, _, domain = email.partition("@")
        return ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + domain.capitalize()
    if u < 0.21:
        return email + " "
    return email


def checkout_email(rng: random.Random, email: str) -> str:
    """The address typed at checkout (Segment traits): case and whitespace differ from the CRM's."""
    u = rng.random()
    if u < 0.25:
        return email[:1].upper() + email[1:]
    if u < 0.3:
        return email.upper()
    if u < 0.4:
        return " " + email + " "
    return email


# --- Phone numbers -----------------------------------------------------------


@dataclass(frozen=True)
class PhoneNumber:
    region: str
    country_code: int
    national: str  # national significant number, digits only

    @property
    def e164(self) -> str:
        return f"+{self.country_code}{self.national}"


@cache
def _template(region: str, prefix: str, length: int, national: bool) -> str:
    """libphonenumber's formatting of numbers with this prefix, the national-number digits as ``#``.

    Digits before them (country code, trunk prefix) stay as they are; numbers
    that share a prefix and a length share a format in every plan used here
    (the tests check this against libphonenumber itself).
    """
    sample = phonenumbers.parse(f"+{phonenumbers.country_code_for_region(region)}{prefix.ljust(length, '5')}")
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    text = phonenumbers.format_number(sample, fmt)
    head = sum(ch.isdigit() for ch in text) - length
    out: list[str] = []
    for ch in text:
        if ch.isdigit():
            out.append(ch if head > 0 else "#")
            head -= 1
        else:
            out.append(ch)
    return "".join(out)


def _fill(template: str, digits: str) -> str:
    it = iter(digits)
    return "".join(next(it) if ch == "#" else ch for ch in template)


def draw_phone(rng: random.Random, region: str, landline: bool = False) -> PhoneNumber:
    market = MARKETS.get(region)
    if region == "GB":
        prefixes, length = ("207",), 10
    elif market is None:
        raise KeyError(region)
    elif landline and market.landline:
        prefixes, length = market.landline, market.landline_length
    else:
        prefixes, length = market.mobile, market.mobile_length  # type: ignore[assignment]
    prefix = prefixes[int(rng.random() * len(prefixes))]
    n = length[prefix] if isinstance(length, dict) else length
    rest = n - len(prefix)
    if region == "US":  # the exchange code never starts with 0 or 1 (NANP)
        digits = str(2 + int(rng.random() * 8)) + f"{int(rng.random() * 10 ** (rest - 1)):0{rest - 1}d}"
    else:
        digits = f"{int(rng.random() * 10**rest):0{rest}d}"
    return PhoneNumber(region, phonenumbers.country_code_for_region(region), prefix + digits)


def _length_and_prefix(number: PhoneNumber) -> tuple[str, int]:
    market = MARKETS.get(number.region)
    candidates = ("207",) if market is None else market.mobile + market.landline
    for prefix in candidates:
        if number.national.startswith(prefix):
            return prefix, len(number.national)
    raise ValueError(f"no template for {number}")


def format_international(number: PhoneNumber) -> str:
    """As libphonenumber's INTERNATIONAL format ("+48 512 345 678")."""
    prefix, length = _length_and_prefix(number)
    return _fill(_template(number.region, prefix, length, False), number.national)


def format_national(number: PhoneNumber) -> str:
    """As libphonenumber's NATIONAL format ("0888 123 456", "8 (912) 345-67-89")."""
    prefix, length = _length_and_prefix(number)
    return _fill(_template(number.region, prefix, length, True), number.national)


def crm_phone(rng: random.Random, number: PhoneNumber) -> str:
    """The phone as typed into the CRM: international, national, compact, ``00`` prefix or dashed."""
    u = rng.random()
    if u < 0.42:
        return format_international(number)
    if u < 0.72:
        return format_national(number)
    if u < 0.86:
        return number.e164
    if u < 0.93:
        return "00" + format_international(number)[1:]
    return format_international(number).replace(" ", "-")


def caller_digits(rng: random.Random, number: PhoneNumber, line_country: str) -> str:
    """Aircall's ``raw_digits``: mostly international with spaces; national only from the line's own country."""
    u = rng.random()
    if u < 0.1 and number.region == line_country:
        return format_national(number)
    if u < 0.3:
        return number.e164
    return format_international(number)


# --- Free text ---------------------------------------------------------------

# language -> sentiment -> (titles, texts). Reviews and survey comments share them.
_TEXTS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "en": {
        "pos": (
            ("Excellent!", "Highly recommend", "Very happy", "Great quality"),
            (
                "Fast delivery, exactly as described. Thank you!",
                "Really happy with my purchase, will order again.",
                "Great quality for a fair price.",
                "Customer service sorted out my problem right away.",
            ),
        ),
        "neu": (
            ("OK", "Decent"),
            (
                "Product is fine but delivery was two days late.",
                "Nothing special, but it does the job.",
                "Price could be lower.",
            ),
        ),
        "neg": (
            ("Disappointed", "Would not recommend", "Terrible service", "Slow delivery"),
            (
                "Parcel arrived damaged and nobody answers my emails.",
                "Waited on hold for 20 minutes and gave up.",
                "The refund took a whole month.",
                "Runs small, very disappointed.",
            ),
        ),
    },
    "de": {
        "pos": (
            ("Super!", "Empfehlenswert", "Sehr zufrieden", "Top Qualität"),
            (
                "Schnelle Lieferung, Artikel wie beschrieben. Danke!",
                "Bin sehr zufrieden mit dem Kauf, bestelle gerne wieder.",
                "Tolle Qualität zu einem fairen Preis.",
                "Der Kundenservice hat mein Problem sofort gelöst.",
            ),
        ),
        "neu": (
            ("Okay", "Geht so"),
            (
                "Produkt ist okay, aber die Lieferung hat zwei Tage länger gedauert.",
                "Nichts Besonderes, erfüllt aber seinen Zweck.",
                "Der Preis könnte niedriger sein.",
            ),
        ),
        "neg": (
            ("Enttäuscht", "Nicht empfehlenswert", "Schlechter Service", "Zu klein"),
            (
                "Paket kam beschädigt an, auf E-Mails antwortet niemand.",
                "20 Minuten in der Warteschleife, dann habe ich aufgelegt.",
                "Die Rückerstattung hat einen ganzen Monat gedauert.",
                "Fällt viel zu klein aus, sehr enttäuscht.",
            ),
        ),
    },
    "pl": {
        "pos": (
            ("Świetnie!", "Polecam", "Bardzo zadowolona", "Rewelacja"),
            (
                "Szybka dostawa, produkt zgodny z opisem. Dziękuję!",
                "Jestem bardzo zadowolona z zakupu, na pewno zamówię ponownie.",
                "Świetna jakość w dobrej cenie.",
                "Obsługa klienta błyskawicznie rozwiązała mój problem.",
            ),
        ),
        "neu": (
            ("W porządku", "Może być"),
            (
                "Produkt w porządku, ale dostawa opóźniła się o dwa dni.",
                "Nic specjalnego, ale spełnia swoje zadanie.",
                "Cena mogłaby być niższa.",
            ),
        ),
        "neg": (
            ("Rozczarowanie", "Nie polecam", "Fatalna obsługa", "Długa dostawa"),
            (
                "Paczka przyszła uszkodzona, nikt nie odpowiada na maile.",
                "Czekałem na linii 20 minut i się rozłączyłem.",
                "Zwrot pieniędzy trwał cały miesiąc.",
                "Rozmiar niezgodny z tabelą, jestem rozczarowany.",
            ),
        ),
    },
    "lv": {
        "pos": (
            ("Lieliski!", "Iesaku", "Ļoti apmierināta", "Kvalitatīvi"),
            (
                "Ātra piegāde, prece tieši kā aprakstā. Paldies!",
                "Esmu ļoti apmierināta ar pirkumu, pasūtīšu vēl.",
                "Lieliska kvalitāte par saprātīgu cenu.",
                "Klientu apkalpošana bija ātra un laipna.",
            ),
        ),
        "neu": (
            ("Labi", "Normāli"),
            ("Prece laba, bet piegāde kavējās divas dienas.", "Nekas īpašs, bet der.", "Cena varētu būt zemāka."),
        ),
        "neg": (
            ("Vīlies", "Neiesaku", "Šausmīga apkalpošana", "Lēna piegāde"),
            (
                "Sūtījums pienāca bojāts, uz e-pastiem neviens neatbild.",
                "Gaidīju uz līnijas 20 minūtes un noliku klausuli.",
                "Naudas atmaksa aizņēma veselu mēnesi.",
                "Izmērs neatbilst tabulai, esmu vīlies.",
            ),
        ),
    },
    "ru": {
        "pos": (
            ("Отлично!", "Рекомендую", "Очень довольна", "Супер"),
            (
                "Быстрая доставка, всё как на фото. Спасибо!",
                "Очень довольна покупкой, буду заказывать ещё.",
                "Отличное качество за свои деньги.",
                "Оператор быстро решил мою проблему.",
            ),
        ),
        "neu": (
            ("Нормально", "Неплохо"),
            (
                "Товар нормальный, но доставка задержалась.",
                "В целом неплохо, но цена высоковата.",
                "Размер немного маломерит.",
            ),
        ),
        "neg": (
            ("Разочарован", "Не рекомендую", "Ужасный сервис", "Долгая доставка"),
            (
                "Посылка пришла повреждённой, на письма никто не отвечает.",
                "Полчаса висел на линии и так и не дозвонился.",
                "Возврат денег ждал больше месяца.",
                "Качество ужасное, сломалось через неделю.",
            ),
        ),
    },
    "bg": {
        "pos": (
            ("Отлично!", "Препоръчвам", "Много доволна", "Страхотно качество"),
            (
                "Бърза доставка, продуктът е точно както е описан. Благодаря!",
                "Много съм доволна от покупката, ще поръчам отново.",
                "Отлично качество на добра цена.",
                "Обслужването по телефона беше бързо и любезно.",
            ),
        ),
        "neu": (
            ("Добре", "Става"),
            (
                "Продуктът е добър, но доставката се забави с два дни.",
                "Нищо особено, но върши работа.",
                "Цената можеше да е по-ниска.",
            ),
        ),
        "neg": (
            ("Разочарован", "Не препоръчвам", "Ужасно обслужване", "Бавна доставка"),
            (
                "Пратката пристигна повредена и никой не отговаря на имейлите ми.",
                "Чаках на телефона 20 минути и затворих.",
                "Връщането на парите отне цял месец.",
                "Размерът не отговаря на таблицата, много съм разочарован.",
            ),
        ),
    },
    "zh": {
        "pos": (
            ("非常满意", "物超所值", "推荐购买", "好评"),
            (
                "质量很好，物流很快，非常满意！",
                "包装完好，和描述一致。",
                "第二次购买了，值得推荐。",
                "客服态度很好，解决问题很快。",
            ),
        ),
        "neu": (("还行", "一般"), ("还可以，价格有点贵。", "一般般，物流有点慢。", "产品不错，但是尺码偏小。")),
        "neg": (
            ("很失望", "质量差", "物流太慢", "不推荐"),
            (
                "等了两个星期还没收到货。",
                "质量太差了，用了一次就坏了。",
                "退款一直没有处理，很失望。",
                "客服电话一直打不通。",
            ),
        ),
    },
}

# Ticket subjects per category and language, and a closing line for the content.
_SUBJECTS: dict[str, dict[str, str]] = {
    "SHIPPING": {
        "en": "Where is my parcel?",
        "de": "Wo ist mein Paket?",
        "pl": "Gdzie jest moja paczka?",
        "lv": "Kur ir mans sūtījums?",
        "ru": "Где моя посылка?",
        "bg": "Къде е пратката ми?",
        "zh": "我的包裹在哪里？",
    },
    "RETURN_REQUEST": {
        "en": "I want to return my order",
        "de": "Ich möchte meine Bestellung zurücksenden",
        "pl": "Chcę zwrócić zamówienie",
        "lv": "Vēlos atgriezt pasūtījumu",
        "ru": "Хочу вернуть заказ",
        "bg": "Искам да върна поръчката си",
        "zh": "我想退货",
    },
    "PRODUCT_ISSUE": {
        "en": "The product arrived damaged",
        "de": "Artikel defekt angekommen",
        "pl": "Produkt przyszedł uszkodzony",
        "lv": "Prece pienāca bojāta",
        "ru": "Товар пришёл бракованный",
        "bg": "Продуктът пристигна повреден",
        "zh": "收到的商品有质量问题",
    },
    "BILLING_ISSUE": {
        "en": "I was charged twice",
        "de": "Doppelte Abbuchung",
        "pl": "Pobrano płatność dwa razy",
        "lv": "Nauda noņemta divreiz",
        "ru": "Деньги списали дважды",
        "bg": "Таксуваха ме два пъти",
        "zh": "被重复扣款了",
    },
    "GENERAL_INQUIRY": {
        "en": "Question about sizes",
        "de": "Frage zur Größe",
        "pl": "Pytanie o rozmiar",
        "lv": "Jautājums par izmēru",
        "ru": "Вопрос о размере",
        "bg": "Въпрос за размера",
        "zh": "关于尺码的问题",
    },
}
_PLEASE: dict[str, str] = {
    "en": "Please help.",
    "de": "Bitte um Hilfe.",
    "pl": "Proszę o pomoc.",
    "lv": "Lūdzu, palīdziet.",
    "ru": "Помогите, пожалуйста.",
    "bg": "Моля за помощ.",
    "zh": "请帮忙处理。",
}
TICKET_CATEGORIES = tuple(_SUBJECTS)


def sentiment_of(share_of_scale: float) -> str:
    """Score position on its scale (0 = worst, 1 = best) -> text sentiment."""
    if share_of_scale >= 0.75:
        return "pos"
    if share_of_scale >= 0.5:
        return "neu"
    return "neg"


def review_text(rng: random.Random, language: str, sentiment: str) -> tuple[str, str]:
    titles, texts = _TEXTS[language][sentiment]
    return titles[int(rng.random() * len(titles))], texts[int(rng.random() * len(texts))]


def comment(rng: random.Random, language: str, sentiment: str) -> str:
    texts = _TEXTS[language][sentiment][1]
    return texts[int(rng.random() * len(texts))]


def ticket_text(language: str, category: str, reference: str | None) -> tuple[str, str]:
    subject = _SUBJECTS[category][language]
    ref = f" ({reference})" if reference else ""
    return subject, f"{subject}{ref} {_PLEASE[language]}"


LANGUAGES = tuple(_TEXTS)
