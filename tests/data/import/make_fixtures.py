"""Writes the small messy fixtures of tests/it/cli_import.rs (run once; the files are committed).

Needs openpyxl for the workbook. Expectations are in the test, computed by hand.
"""
import openpyxl

clients = (
    "Код;ФИО;Тип;E-mail;Телефон;Страна;Город;Дата регистрации;Менеджер\n"
    "K001;Иван Петров;Физ. лицо; Ivan.Petrov@Mail.RU ;+7 (495) 123-45-67;RU;Москва;05.03.2023;M1\n"
    "K002;Петров  Иван;Физ. лицо;ivan.petrov@mail.ru;;RU;Москва;10.04.2023;M2\n"
    'K003;"ООО ""Ромашка""";Юр. лицо;info@romashka.ru;8 495 1234568;RU;Москва;01.02.2023;M1\n'
    "K004;Ромашка ООО;Юр. лицо;;8 (495) 123-45-68;RU;Москва;15.06.2023;M2\n"
    "K005;Анна Смирнова;Физ. лицо;;1234567;RU;Тверь;20.01.2023;M1\n"
    "K006;Анна  Смирнова;Физ. лицо;;;RU;Тверь;21.01.2023;M2\n"
    "K007;Олег Орлов;Физ. лицо;oleg@a.ru;;RU;Омск;01.01.2023;M1\n"
    "K008;Олег Орлов;Физ. лицо;oleg@b.ru;;RU;Омск;02.01.2023;M2\n"
    "K009;Сергей\n"
    "K010;Мария Иванова;Физ. лицо;maria@@mail;+7 916 555 12 34;RU;Казань;2023-07-01;M1\n"
    ";Без кода;Физ. лицо;;;RU;Казань;01.08.2023;M1\n"
)
open("clients_cp1251.csv", "wb").write(clients.replace("\n", "\r\n").encode("cp1251"))

orders = (
    "Номер заказа,Клиент,Дата заказа,Сумма,Статус,Комментарий\n"
    'Z1,K001,05.03.2023 12:30,"1 234,56",Оплачен,\n'
    'Z2,K002,2023-03-06,"99,90",оплачен,"две строки\nв одной ячейке"\n'
    'Z3,K004,07.03.2023,"1.500,00",Возврат,\n'
    "Z4,K999,08.03.2023,10,Оплачен,нет такого клиента\n"
    'Z5,K005,09.03.2023,"5,5",Черновик,\n'
    "Z6,K006,10.03.2023,abc,Оплачен,\n"
    'Z1,K001,05.03.2023 12:30,"1 234,56",Оплачен,повтор\n'
    'Z1,K001,05.03.2023 12:30,"2 000,00",Оплачен,другая сумма\n'
    "Z7,K008,31.02.2023,100,Отменен,\n"
    'Z8,K007,11.03.2023 09:15,"12 345,678",Отменен,\n'
)
open("orders_utf8bom.csv", "wb").write(b"\xef\xbb\xbf" + orders.encode("utf-8"))

products = "SKU\tProduct\tCategory\tCost\nP1\tCrème brûlée\tDesserts\t12,50\nP2\tCafé  au lait\tDrinks\t3,2\n"
open("products_cp1252.tsv", "wb").write(products.encode("cp1252"))

events = (
    '{"client": "K001", "event": "visit", "at": "2023-03-01 10:00", "props": {"page": "/"}}\n'
    '{"client": "K002", "event": "signup", "at": "01.03.2023 10:05"}\n'
    '{"client": "K003", "event": "visit", "at": "2023-03-02T08:00:00+03:00"\n'
    '{"client": "K404", "event": "visit", "at": "2023-03-03"}\n'
)
open("events.jsonl", "w").write(events)
open("empty.csv", "w").write("")

wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Менеджеры"
ws.append(["Код", "ФИО", "Отдел", "Работает"])
ws.append(["M1", "Елена  Кузнецова", "Продажи", "да"])
ws.append(["M2", "Павел Соколов", "Продажи", "нет"])
ws.append([3, "Третий", "Опт", "да"])
wb.create_sheet("Заметки").append(["просто", "текст"])
wb.save("managers.xlsx")
