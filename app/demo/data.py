"""The demo data: employers, tags and portfolios in Persian and English, and the pictures they
show (described here, drawn by `app.demo.images`).

Every object is known by its unique title or name: that is how a second run finds it. Texts are
written as an editor would type them, zero-width non-joiners (U+200C) and Persian digits included.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

PictureKind = Literal["photo", "screen", "logo"]
EXTENSIONS = {"photo": "jpg", "screen": "png", "logo": "png"}


@dataclass(frozen=True)
class Picture:
    """An image to draw and upload. Its caption is Latin: Pillow's bundled font has no Persian."""

    stem: str  # the uploaded file's name, without its extension
    name: str
    alt: str
    kind: PictureKind  # photos are JPEG, screens and logos PNG (logos transparent)
    width: int
    height: int
    colors: tuple[str, str]
    caption: str

    @property
    def filename(self) -> str:
        return f"{self.stem}.{EXTENSIONS[self.kind]}"


@dataclass(frozen=True)
class DemoEmployer:
    name: str
    description: str | None
    caption: str  # Latin initials for the logo come from it
    colors: tuple[str, str] | None  # None: no logo

    @property
    def logo(self) -> Picture | None:
        if self.colors is None:
            return None
        words = self.caption.split()
        size = 512 if len(words) > 2 else 320
        return Picture(
            stem=f"demo-logo-{'-'.join(words).lower()}",
            name=f"{self.name} logo" if is_latin(self.name) else f"لوگوی {self.name}",
            alt=self.name,
            kind="logo",
            width=size,
            height=size,
            colors=self.colors,
            caption="".join(word[0] for word in words[:2]).upper(),
        )


@dataclass(frozen=True)
class DemoLink:
    name: str
    url: str
    description: str | None = None


@dataclass(frozen=True)
class DemoPortfolio:
    key: str  # Latin: names the uploaded files
    title: str
    excerpt: str
    description: str
    employer: str
    tags: tuple[str, ...]
    completed_at: datetime
    caption: str  # drawn on its pictures
    colors: tuple[str, str]
    links: tuple[DemoLink, ...]
    meta: tuple[tuple[str, str], ...]
    gallery_size: int = 3
    is_active: bool = True


def is_latin(text: str) -> bool:
    return not any("\u0600" <= character <= "\u06ff" for character in text)


# Picture sizes, cycled through the portfolios: a few hundred pixels to 1600 wide.
COVER_SIZES = ((1600, 900), (1440, 960), (1600, 1000))
GALLERY_SIZES: tuple[tuple[PictureKind, int, int], ...] = (
    ("screen", 1280, 800),
    ("photo", 1024, 768),
    ("screen", 414, 896),
    ("photo", 720, 960),
    ("screen", 1440, 900),
    ("photo", 1200, 800),
)


def cover(portfolio: DemoPortfolio, index: int) -> Picture:
    width, height = COVER_SIZES[index % len(COVER_SIZES)]
    latin = is_latin(portfolio.title)
    return Picture(
        stem=f"demo-{portfolio.key}-cover",
        name=f"{portfolio.title} — cover" if latin else f"تصویر شاخص {portfolio.title}",
        alt=portfolio.excerpt,
        kind="photo",
        width=width,
        height=height,
        colors=portfolio.colors,
        caption=portfolio.caption,
    )


def gallery(portfolio: DemoPortfolio, index: int) -> list[Picture]:
    latin = is_latin(portfolio.title)
    pictures = []
    for number in range(1, portfolio.gallery_size + 1):
        kind, width, height = GALLERY_SIZES[(index + number) % len(GALLERY_SIZES)]
        persian_number = str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        pictures.append(
            Picture(
                stem=f"demo-{portfolio.key}-{number}",
                name=f"{portfolio.title} — {number}"
                if latin
                else f"{portfolio.title} — {persian_number}",
                alt=f"{portfolio.title}: screen {number}"
                if latin
                else f"{portfolio.title}: نمای {persian_number}",
                kind=kind,
                width=width,
                height=height,
                colors=portfolio.colors[::-1] if number % 2 else portfolio.colors,
                caption=f"{portfolio.caption} {number}",
            )
        )
    return pictures


def _day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


EMPLOYERS = (
    DemoEmployer(
        "فروشگاه اینترنتی نوآوران",
        "خرده‌فروشی آنلاین لوازم خانگی و دیجیتال، با ارسال به همه‌ی شهرهای ایران از سال ۱۳۹۵.",
        "Noavaran Store",
        ("#0f766e", "#99f6e4"),
    ),
    DemoEmployer(
        "Caspian Logistics",
        "Freight forwarding and warehousing on the Caspian coast, from Anzali to Aktau.",
        "Caspian Logistics",
        ("#1e3a8a", "#60a5fa"),
    ),
    DemoEmployer(
        "آژانس مسافرتی زاگرس",
        "برگزارکننده‌ی تورهای طبیعت‌گردی و فرهنگی در غرب ایران؛ کرمانشاه، لرستان و کردستان.",
        "Zagros Travel Agency",
        ("#9a3412", "#fdba74"),
    ),
    DemoEmployer(
        "Persepolis Coffee Roasters",
        "A specialty coffee roastery in Shiraz with three cafés and an online shop.",
        "Persepolis Coffee Roasters",
        ("#451a03", "#d97706"),
    ),
    DemoEmployer(
        "کلینیک تخصصی مهر",
        "کلینیک چندتخصصی در تهران با ۲۴ پزشک، آزمایشگاه و نوبت‌دهی اینترنتی.",
        "Mehr Clinic",
        ("#be123c", "#fda4af"),
    ),
    DemoEmployer(
        "Tabriz Carpet House",
        "Hand-woven carpets from Tabriz workshops since 1961 (۱۳۴۰). فرش دستباف تبریز.",
        "Tabriz Carpet House",
        ("#7f1d1d", "#fcd34d"),
    ),
    DemoEmployer("مؤسسه آموزشی دانا", None, "Dana Institute", ("#4c1d95", "#c4b5fd")),
    DemoEmployer(
        "Alborz Industrial Group",
        "Steel and aluminium profiles for construction; گروه صنعتی البرز.",
        "Alborz Industrial Group",
        None,
    ),
)

WEB = "طراحی وب"
MOBILE = "اپلیکیشن موبایل"
UX = "UI/UX"
SHOP = "فروشگاه اینترنتی"
DJANGO = "Django"
REACT = "React"
BRANDING = "برندینگ"
SEO = "سئو"
POSTGRES = "PostgreSQL"
DASHBOARD = "داشبورد مدیریتی"
DATAVIS = "Data visualisation"
TAGS = (WEB, MOBILE, UX, SHOP, DJANGO, REACT, BRANDING, SEO, POSTGRES, DASHBOARD, DATAVIS)

PORTFOLIOS = (
    DemoPortfolio(
        key="noavaran-shop",
        title="فروشگاه اینترنتی نوآوران",
        excerpt="بازطراحی کامل فروشگاه با سبد خرید سریع، پرداخت آنلاین و پنل مدیریت سفارش‌ها.",
        description=(
            "فروشگاه قبلی روی موبایل کند بود و نیمی از سبدهای خرید نیمه‌کاره می‌ماند. "
            "صفحه‌های محصول را از نو طراحی کردیم، جست‌وجو را با فیلترهای برند و قیمت سریع کردیم "
            "و پرداخت را به یک صفحه رساندیم.\n\n"
            "نتیجه: زمان بارگذاری صفحه‌ی اول از ۴٫۲ به ۱٫۱ ثانیه رسید و سفارش‌های موبایلی "
            "در سه ماه اول ۳۸٪ بیشتر شد."
        ),
        employer="فروشگاه اینترنتی نوآوران",
        tags=(WEB, SHOP, DJANGO, SEO),
        completed_at=_day(2024, 3, 12),
        caption="Noavaran Online Store",
        colors=("#0f766e", "#5eead4"),
        links=(
            DemoLink("وب‌سایت فروشگاه", "https://noavaran.example.com", "نسخه‌ی زنده‌ی فروشگاه"),
            DemoLink("Case study", "https://studio.example.com/work/noavaran-shop"),
        ),
        meta=(("مدت پروژه", "۵ ماه"), ("stack", "Django, PostgreSQL, Redis"), ("team", "4")),
    ),
    DemoPortfolio(
        key="caspian-tracking",
        title="Caspian Logistics Tracking Dashboard",
        excerpt="Live shipment tracking for 40 trucks and two ports, on one screen.",
        description=(
            "Dispatchers used to phone drivers to find out where a load was. The dashboard "
            "shows every truck and container on a map, with delays flagged before customers "
            "call.\n\nBuilt with React and a PostgreSQL/PostGIS backend fed by GPS units."
        ),
        employer="Caspian Logistics",
        tags=(REACT, DASHBOARD, DATAVIS, POSTGRES),
        completed_at=_day(2023, 11, 2),
        caption="Caspian Logistics",
        colors=("#1e3a8a", "#38bdf8"),
        links=(
            DemoLink("Live demo", "https://tracking.caspian.example.com", "Read-only demo login"),
            DemoLink("Source (internal)", "https://git.example.com/caspian/tracking"),
            DemoLink("ارائه‌ی پروژه", "https://studio.example.com/talks/caspian.pdf"),
        ),
        meta=(("duration", "7 months"), ("stack", "React, PostGIS"), ("شهر", "بندر انزلی")),
    ),
    DemoPortfolio(
        key="zagros-booking",
        title="اپلیکیشن رزرو تور زاگرس",
        excerpt="رزرو تورهای طبیعت‌گردی با پرداخت قسطی و راهنمای آفلاین مسیرها.",
        description=(
            "مسافران تورهای زاگرس اغلب در مسیر اینترنت ندارند؛ برای همین نقشه‌ی مسیر، "
            "برنامه‌ی روزانه و شماره‌ی راهنما بدون اینترنت هم در اپلیکیشن در دسترس است.\n\n"
            "در ۱۴۰۲ بیش از ۱۲ هزار رزرو از طریق اپلیکیشن ثبت شد."
        ),
        employer="آژانس مسافرتی زاگرس",
        tags=(MOBILE, UX),
        completed_at=_day(2023, 5, 21),
        caption="Zagros Tour Booking",
        colors=("#9a3412", "#fbbf24"),
        links=(
            DemoLink("کافه‌بازار", "https://cafebazaar.example.com/app/zagros"),
            DemoLink("Google Play", "https://play.example.com/store/apps/zagros"),
        ),
        meta=(("مدت پروژه", "۴ ماه"), ("platforms", "Android, iOS")),
        gallery_size=2,
    ),
    DemoPortfolio(
        key="persepolis-coffee",
        title="Persepolis Coffee — Brand & Online Shop",
        excerpt="A new identity, packaging and a subscription shop for a Shiraz roastery.",
        description=(
            "Labels, bags and the café menu board share one system drawn from Achaemenid "
            "reliefs. The shop sells single-origin beans by subscription, roasted to order.\n\n"
            "شعار برند: «قهوه‌ی تازه، هر هفته»."
        ),
        employer="Persepolis Coffee Roasters",
        tags=(BRANDING, SHOP, WEB),
        completed_at=_day(2024, 8, 30),
        caption="Persepolis Coffee",
        colors=("#451a03", "#f59e0b"),
        links=(
            DemoLink("Shop", "https://shop.persepolis-coffee.example.com"),
            DemoLink("Instagram", "https://instagram.example.com/persepolis.coffee"),
        ),
        meta=(("duration", "3 months"), ("deliverables", "logo, packaging, website")),
    ),
    DemoPortfolio(
        key="mehr-appointments",
        title="سامانه نوبت‌دهی آنلاین کلینیک مهر",
        excerpt="نوبت‌دهی اینترنتی برای ۲۴ پزشک، با یادآوری پیامکی و لغو خودکار.",
        description=(
            "منشی‌ها روزانه بیش از ۳۰۰ تماس برای نوبت داشتند. با سامانه‌ی جدید بیماران "
            "نوبت خالی را خودشان پیدا می‌کنند و یک روز قبل پیامک یادآوری می‌گیرند.\n\n"
            "غیبت بیماران در نوبت‌ها از ۱۸٪ به ۶٪ رسید."
        ),
        employer="کلینیک تخصصی مهر",
        tags=(WEB, DJANGO, UX),
        completed_at=_day(2022, 12, 15),
        caption="Mehr Clinic Appointments",
        colors=("#be123c", "#fb7185"),
        links=(DemoLink("سامانه‌ی نوبت‌دهی", "https://nobat.mehr-clinic.example.com"),),
        meta=(("مدت پروژه", "۶ ماه"), ("stack", "Django, HTMX"), ("پیامک", "کاوه‌نگار")),
    ),
    DemoPortfolio(
        key="tabriz-carpets",
        title="Tabriz Carpet House Catalogue",
        excerpt="A catalogue of 2,000 hand-woven carpets, searchable by size, knot and colour.",
        description=(
            "Each carpet is photographed front and back; buyers abroad filter by size, knot "
            "density and dominant colour, and ask for a video call from the product page.\n\n"
            "Bilingual: English and فارسی."
        ),
        employer="Tabriz Carpet House",
        tags=(WEB, SEO, REACT),
        completed_at=_day(2021, 9, 1),
        caption="Tabriz Carpet House",
        colors=("#7f1d1d", "#fcd34d"),
        links=(
            DemoLink("Catalogue", "https://tabriz-carpets.example.com/catalogue"),
            DemoLink("کاتالوگ فارسی", "https://tabriz-carpets.example.com/fa/catalogue"),
        ),
        meta=(("duration", "5 months"), ("products", "2000")),
    ),
    DemoPortfolio(
        key="dana-learning",
        title="پلتفرم آموزش آنلاین دانا",
        excerpt="کلاس‌های زنده، تمرین‌های خودکار و کارنامه‌ی ماهانه برای ۸ هزار دانش‌آموز.",
        description=(
            "معلم‌ها کلاس زنده را از همان صفحه‌ای برگزار می‌کنند که تکلیف می‌دهند و نمره ثبت "
            "می‌کنند. والدین کارنامه‌ی ماهانه را در اپلیکیشن می‌بینند.\n\n"
            "پشتیبانی از اعداد فارسی و تقویم هجری شمسی در همه‌ی صفحه‌ها."
        ),
        employer="مؤسسه آموزشی دانا",
        tags=(MOBILE, DJANGO, REACT),
        completed_at=_day(2024, 1, 20),
        caption="Dana Learning Platform",
        colors=("#4c1d95", "#a78bfa"),
        links=(
            DemoLink("وب‌سایت", "https://dana.example.com"),
            DemoLink("اپلیکیشن والدین", "https://dana.example.com/parents-app"),
        ),
        meta=(("مدت پروژه", "۹ ماه"), ("کاربران", "۸٬۰۰۰ دانش‌آموز")),
    ),
    DemoPortfolio(
        key="alborz-intranet",
        title="Alborz Industrial Group Intranet",
        excerpt="Orders, stock and maintenance schedules for three factories.",
        description=(
            "Replaces spreadsheets passed around by e-mail. Not shown on the public site "
            "(inactive): the client asked to keep it private."
        ),
        employer="Alborz Industrial Group",
        tags=(DASHBOARD, POSTGRES, DJANGO),
        completed_at=_day(2022, 6, 5),
        caption="Alborz Intranet",
        colors=("#334155", "#94a3b8"),
        links=(DemoLink("Intranet (VPN only)", "https://intranet.alborz.example.com"),),
        meta=(("duration", "10 months"), ("factories", "3")),
        gallery_size=2,
        is_active=False,
    ),
    DemoPortfolio(
        key="noavaran-loyalty",
        title="اپلیکیشن باشگاه مشتریان نوآوران",
        excerpt="امتیاز خرید، کدهای تخفیف شخصی و پیگیری سفارش در یک اپلیکیشن.",
        description=(
            "مشتریان با هر خرید امتیاز می‌گیرند و آن را در همان اپلیکیشن به تخفیف تبدیل می‌کنند. "
            "پیگیری سفارش با اعلان لحظه‌ای جای تماس با پشتیبانی را گرفت."
        ),
        employer="فروشگاه اینترنتی نوآوران",
        tags=(MOBILE, UX, SHOP),
        completed_at=_day(2025, 2, 10),
        caption="Noavaran Club",
        colors=("#115e59", "#a7f3d0"),
        links=(DemoLink("دانلود اپلیکیشن", "https://noavaran.example.com/app"),),
        meta=(("مدت پروژه", "۴ ماه"), ("platforms", "Android, iOS, PWA")),
    ),
    DemoPortfolio(
        key="zagros-blog",
        title="Zagros Travel Blog & SEO",
        excerpt="A travel magazine in Persian and English that now brings half of all bookings.",
        description=(
            "Guides to the Zagros trails, written with local guides and optimised page by page. "
            "Organic traffic grew from 3k to 41k visits a month in a year.\n\n"
            "راهنمای مسیرهای زاگرس به دو زبان."
        ),
        employer="آژانس مسافرتی زاگرس",
        tags=(SEO, WEB),
        completed_at=_day(2023, 9, 14),
        caption="Zagros Travel Blog",
        colors=("#14532d", "#86efac"),
        links=(
            DemoLink("Blog", "https://zagros-travel.example.com/blog"),
            DemoLink("مجله‌ی سفر", "https://zagros-travel.example.com/fa/mag"),
        ),
        meta=(("duration", "12 months"), ("monthly visits", "41,000")),
        gallery_size=2,
    ),
    DemoPortfolio(
        key="caspian-analytics",
        title="داشبورد تحلیل فروش کاسپین",
        excerpt="گزارش روزانه‌ی فروش و ظرفیت انبارها با نمودارهای تعاملی.",
        description=(
            "مدیران هر صبح گزارش فروش دیروز، ظرفیت خالی انبارها و پیش‌بینی هفته‌ی بعد را "
            "در یک صفحه می‌بینند. داده‌ها هر شب از سامانه‌ی حسابداری خوانده می‌شوند."
        ),
        employer="Caspian Logistics",
        tags=(DASHBOARD, DATAVIS, POSTGRES),
        completed_at=_day(2024, 10, 3),
        caption="Caspian Sales Analytics",
        colors=("#0c4a6e", "#7dd3fc"),
        links=(DemoLink("نسخه‌ی نمایشی", "https://analytics.caspian.example.com/demo"),),
        meta=(("مدت پروژه", "۳ ماه"), ("stack", "PostgreSQL, Apache ECharts")),
    ),
    DemoPortfolio(
        key="mehr-patient-app",
        title="Mehr Clinic Patient App",
        excerpt="Test results, prescriptions and appointments in the patient's pocket.",
        description=(
            "Patients see lab results as soon as they are signed, renew prescriptions and book "
            "follow-ups. Persian first, with an English mode for visitors: نسخه‌ی انگلیسی."
        ),
        employer="کلینیک تخصصی مهر",
        tags=(MOBILE, REACT, UX),
        completed_at=_day(2025, 6, 1),
        caption="Mehr Patient App",
        colors=("#9f1239", "#fecdd3"),
        links=(
            DemoLink("App Store", "https://apps.example.com/mehr-clinic"),
            DemoLink("Google Play", "https://play.example.com/store/apps/mehr"),
        ),
        meta=(("duration", "6 months"), ("platforms", "React Native")),
    ),
)
